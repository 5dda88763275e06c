# Intel N97 mini PC booted with UEFI, shared by tokiwa and hanaakari (the
# same model). The disk layout is the NixOS manual's (an ESP labelled "boot",
# a root filesystem labelled "nixos"); the real machines' disk ids are not
# known yet. When installing, put the output of
# `nixos-generate-config --show-hardware-config` in hosts/<name>/ and import
# that instead: the two hosts will then differ.
{
  boot.loader.systemd-boot.enable = true;
  boot.loader.efi.canTouchEfiVariables = true;

  boot.initrd.availableKernelModules = [
    "xhci_pci"
    "ahci"
    "nvme"
    "usbhid"
    "usb_storage"
    "sd_mod"
  ];
  boot.kernelModules = [ "kvm-intel" ];

  fileSystems."/" = {
    device = "/dev/disk/by-label/nixos";
    fsType = "ext4";
  };
  fileSystems."/boot" = {
    device = "/dev/disk/by-label/boot";
    fsType = "vfat";
    options = [
      "fmask=0077"
      "dmask=0077"
    ];
  };

  hardware.cpu.intel.updateMicrocode = true;
  hardware.enableRedistributableFirmware = true;
}
