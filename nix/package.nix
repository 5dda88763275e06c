# The `homelab` tool, built from the workspace's Cargo.lock with its tests run
# in checkPhase. The source is only what the build and the tests read.
{
  lib,
  rustPlatform,
  age,
  nginx,
  sops,
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

  # Real components the integration tests drive (see DESIGN.md).
  nativeCheckInputs = [
    age
    nginx
    sops
  ];

  meta = {
    description = "Renders, diffs and applies a NixOS + Kubernetes home lab declared in one repository";
    license = lib.licenses.mit;
    mainProgram = "homelab";
  };
}
