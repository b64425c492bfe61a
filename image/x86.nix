# x86-64 mini-PCs: an EFI disk image (system.build.images.raw-efi), written to the
# box's internal disk (README, "Flashing"). The file systems and boot loader are the
# image's, so that updates (nixos-rebuild) build the same system.
{ lib, ... }:
{
  imports = [ ./appliance.nix ];

  nixpkgs.hostPlatform = "x86_64-linux";
  hardware = {
    enableRedistributableFirmware = true;
    cpu.intel.updateMicrocode = true;
    cpu.amd.updateMicrocode = true;
  };

  boot = {
    initrd.availableKernelModules = [
      "ahci"
      "nvme"
      "sd_mod"
      "usb_storage"
      "xhci_pci"
    ];
    loader.systemd-boot.enable = true;
    loader.efi.canTouchEfiVariables = false;
    # The system partition keeps its size; the data partition takes the rest.
    growPartition = lib.mkForce false;
  };

  fileSystems."/" = {
    device = "/dev/disk/by-label/nixos";
    fsType = "ext4";
  };
  fileSystems."/boot" = {
    device = "/dev/disk/by-label/ESP";
    fsType = "vfat";
  };

  image.modules.raw-efi.image.baseName = lib.mkForce "leaf-x86_64";
}
