# A worker joins declaratively: easyCerts' certmgr authenticates to the control
# plane's cfssl with the API token at `<secretsPath>/apitoken.secret`, and
# sops-nix puts the token there — the same secret the control plane's cfssl
# uses — so `nixos-kubernetes-node-join` is never run by hand.
{ config, lib, ... }:
let
  hl = import ../../nix/lib.nix;
  k8s = config.services.kubernetes;
in
{
  config = lib.mkIf (config.homelab.roles.worker.enable && !config.homelab.roles.control-plane.enable) {
    sops.secrets.${hl.secretKeys.kubernetesApiToken} = {
      path = "${k8s.secretsPath}/apitoken.secret";
      restartUnits = [ "certmgr.service" ];
    };
  };
}
