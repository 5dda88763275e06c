# The host input digest (docs/decisions.md, "A no-op deploy"): one hash over
# every file a host's system is built from, recorded in the system as
# /etc/homelab/inputs so `homelab deploy` can skip evaluating a host whose
# inputs have not changed. Builtins only: `homelab` computes the same digest in
# Rust (tools/homelab/src/lab/host_inputs/) and a test compares the two.
#
# The digest is "v1-" and the sha256 of `sha256sum`-style lines
# "<sha256 of the file>  <path>\n", one per regular file under the listed
# paths, sorted bytewise by path, each file once.
let
  inherit (builtins)
    attrNames
    baseNameOf
    concatLists
    concatStringsSep
    dirOf
    hashFile
    hashString
    listToAttrs
    map
    readDir
    ;

  # The files at or under `rel` (of type `type`, as readDir says), relative
  # to `root`. Links are refused: one could point outside the repository.
  filesOf =
    root: rel: type:
    if type == "regular" then
      [ rel ]
    else if type == "directory" then
      let
        entries = readDir (root + "/${rel}");
      in
      concatLists (map (name: filesOf root "${rel}/${name}" entries.${name}) (attrNames entries))
    else
      throw "homelab: nix/host-inputs.json: ${rel} is a ${type}; host inputs are regular files and folders";

  # The files of one listed path; none when it does not exist (yet), as with
  # lib.fileset.maybeMissing. Its type is read from its folder (Nix 2.8 has no
  # readFileType).
  filesOfEntry =
    root: rel:
    let
      path = root + "/${rel}";
    in
    if builtins.pathExists path then filesOf root rel (readDir (dirOf path)).${baseNameOf rel} else [ ];
in
rec {
  # The paths listed in `root`'s nix/host-inputs.json.
  entries = root: builtins.fromJSON (builtins.readFile (root + "/nix/host-inputs.json"));

  # `sha256sum` lines of every input file, sorted by path (attrNames sorts
  # bytewise and keeps each path once).
  listing =
    root: paths:
    let
      files = concatLists (map (filesOfEntry root) paths);
      hashes = listToAttrs (
        map (rel: {
          name = rel;
          value = hashFile "sha256" (root + "/${rel}");
        }) files
      );
    in
    concatStringsSep "" (map (rel: "${hashes.${rel}}  ${rel}\n") (attrNames hashes));

  digest = root: paths: "v1-" + hashString "sha256" (listing root paths);
}
