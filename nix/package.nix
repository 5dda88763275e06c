# The `homelab` tool, built from the workspace's Cargo.lock with its tests run
# in checkPhase. The source is only what the build and the tests read.
{
  lib,
  rustPlatform,
  age,
  nginx,
  nix,
  sops,
  util-linux,
}:
let
  cargoToml = lib.importTOML ../Cargo.toml;
in
rustPlatform.buildRustPackage {
  pname = "homelab";
  inherit (cargoToml.workspace.package) version;

  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../Cargo.toml
      ../Cargo.lock
      ../tools
      ../hosts
      ../releases
      ../secrets
      ../generated
      ../.sops.yaml
      # Which keys each host's SOPS file holds (`homelab check`, `host add`).
      ../nix/host-secrets.json
      # Throwaway keys: the tests decrypt the reference lab's secrets with them.
      ../checks/testdata
    ];
  };

  cargoLock.lockFile = ../Cargo.lock;
  cargoBuildFlags = [
    "--package"
    "homelab"
  ];
  cargoTestFlags = [
    "--package"
    "homelab"
  ];

  # Real components the integration tests drive (see DESIGN.md); util-linux
  # brings `script`, the pseudo-terminal of the deploy and edit prompts.
  nativeCheckInputs = [
    age
    nginx
    nix
    sops
    util-linux
  ];
  # These modules render charts through the test shim on PyPI's helm-python-sdk,
  # and charts_oci also runs Debian's docker-registry: neither is in nixpkgs, so
  # `.ci/run` runs them and the sandbox does not.
  checkFlags = [
    "--skip=render::"
    "--skip=charts::"
    "--skip=charts_oci::"
    "--skip=apply::"
  ];
  # The tests read hosts/inventory.nix with nix-instantiate; inside the build
  # sandbox it evaluates without a store.
  preCheck = ''
    export NIX_STATE_DIR="$TMPDIR/nix-state"
    export NIX_CONFIG="store = dummy://"
  '';

  meta = {
    description = "Renders, diffs and applies a NixOS + Kubernetes home lab declared in one repository";
    license = lib.licenses.mit;
    mainProgram = "homelab";
  };
}
