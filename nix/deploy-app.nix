# `nix run .#deploy -- …`: `homelab deploy` with what it shells out to on PATH.
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
