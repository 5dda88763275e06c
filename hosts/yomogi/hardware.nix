# Raspberry Pi 4 booted from an SD card or USB disk prepared from nixpkgs'
# sd-image-aarch64 image, whose root filesystem is labelled NIXOS_SD and which
# boots through U-Boot with an extlinux menu. The mainline kernel supports the
# Pi 4, so no vendor kernel is pinned. Replace with the output of
# `nixos-generate-config --show-hardware-config` once the real board is known.
{ lib, ... }:
{
  boot.loader.grub.enable = false;
  boot.loader.generic-extlinux-compatible.enable = true;

  boot.initrd.availableKernelModules = [
    "xhci_pci"
    "usbhid"
    "usb_storage"
  ];

  fileSystems."/" = {
    device = "/dev/disk/by-label/NIXOS_SD";
    fsType = "ext4";
  };

  hardware.enableRedistributableFirmware = true;

  # 4 GB RAM: a little compressed swap keeps etcd and the apiserver alive
  # under memory pressure.
  zramSwap.enable = lib.mkDefault true;
}
