# `nix run .#deploy -- -e prod [--plan]`: `homelab deploy` with what it shells out to
# on PATH. writeShellApplication prepends these to the caller's PATH, so `--plan`
# builds the hosts' systems with the caller's own `nix` (the one that ran `nix run`).
{
  writeShellApplication,
  homelab,
  kubectl,
  kubernetes-helm,
  nixos-rebuild,
  openssh,
}:
writeShellApplication {
  name = "homelab-deploy";
  runtimeInputs = [
    homelab
    kubectl
    kubernetes-helm
    nixos-rebuild
    openssh
  ];
  text = ''
    exec homelab deploy "$@"
  '';
}
