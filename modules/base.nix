# What every host has: its name, the admins' logins (SSH keys only, password
# hashes from sops-nix for sudo and the console), sops-nix reading this host's
# SOPS file with its SSH host key, nix settings, time and locale.
{ config, lib, ... }:
let
  inherit (config.homelab) inventory hostName;
  admins = inventory.admins or { };
  passwordSecret = (import ../nix/lib.nix).secretKeys.adminPassword;
  adminKeys = lib.concatLists (lib.mapAttrsToList (_: admin: admin.sshKeys) admins);
in
{
  # The values `homelab check` refuses never reach a build (nix/identifiers.nix).
  assertions = map (message: {
    assertion = false;
    inherit message;
  }) ((import ../nix/identifiers.nix).failures inventory);

  networking.hostName = hostName;

  # Decrypted at activation with the host's own SSH key; .sops.yaml makes the
  # matching age recipient (ssh-to-age of the host key) a recipient of the file.
  sops.defaultSopsFile = lib.mkDefault (../secrets/hosts + "/${hostName}.yaml");
  sops.age.sshKeyPaths = lib.mkDefault [ "/etc/ssh/ssh_host_ed25519_key" ];

  sops.secrets = lib.mapAttrs' (
    name: _: lib.nameValuePair (passwordSecret name) { neededForUsers = true; }
  ) admins;

  # Users are declared here only; a password changed with `passwd` would be
  # lost on the next switch, so forbid it.
  users.mutableUsers = false;
  users.users =
    lib.mapAttrs (name: admin: {
      isNormalUser = true;
      extraGroups = [ "wheel" ];
      hashedPasswordFile = config.sops.secrets.${passwordSecret name}.path;
      openssh.authorizedKeys.keys = admin.sshKeys;
    }) admins
    // {
      # `homelab deploy` runs `nixos-rebuild --target-host root@<host>`.
      root.openssh.authorizedKeys.keys = adminKeys;
    };

  services.openssh = {
    enable = true;
    settings = {
      PasswordAuthentication = false;
      KbdInteractiveAuthentication = false;
      PermitRootLogin = "prohibit-password";
    };
  };

  nix.settings = {
    experimental-features = [
      "nix-command"
      "flakes"
    ];
    trusted-users = [
      "root"
      "@wheel"
    ];
    auto-optimise-store = lib.mkDefault true;
  };
  nix.gc = {
    automatic = lib.mkDefault true;
    dates = lib.mkDefault "weekly";
    options = lib.mkDefault "--delete-older-than 30d";
  };

  # The inventory has no time zone or locale; these are defaults a host may override.
  time.timeZone = lib.mkDefault "UTC";
  i18n.defaultLocale = lib.mkDefault "en_US.UTF-8";

  system.stateVersion = lib.mkDefault "25.11";
}
