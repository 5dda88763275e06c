# `nix flake check` guards for one system (the hosts' toplevels are added in
# flake.nix). Each runs the real tool on the repository as committed; the
# inventory is handed over as JSON because nix-instantiate cannot run inside
# the build sandbox.
{
  runCommand,
  writeText,
  homelab,
  inventory,
  src,
}:
let
  inventoryJson = writeText "inventory.json" (builtins.toJSON inventory);

  homelabCheck =
    name: command:
    runCommand "homelab-${name}" { nativeBuildInputs = [ homelab ]; } ''
      cd ${src}
      ${command}
      touch $out
    '';

  nixLibFailures = import ../checks/nix-lib/tests.nix;
in
{
  # Every release, environment and host validates.
  lab-valid = homelabCheck "lab-valid" "homelab --inventory ${inventoryJson} check";

  # generated/ is what `homelab generate` makes of the tree; stale files fail
  # with a diff.
  generated-fresh = homelabCheck "generated-fresh" "homelab --inventory ${inventoryJson} generate --check";

  # Every file under secrets/ is SOPS-encrypted; no plaintext value.
  secrets-encrypted = homelabCheck "secrets-encrypted" "homelab secrets check";

  # The pure functions in nix/ (the same tests CI runs with nix-instantiate).
  nix-lib =
    if nixLibFailures == [ ] then
      runCommand "homelab-nix-lib" { } "touch $out"
    else
      throw "nix/ library tests failed:\n${builtins.concatStringsSep "\n" nixLibFailures}";
}
