# Raspberry Pi (4 and 5 alike): an aarch64 SD card image. rpi4.nix and rpi5.nix add the
# board support from nixos-hardware.
{ modulesPath, ... }:
{
  imports = [
    ./appliance.nix
    "${modulesPath}/installer/sd-card/sd-image-aarch64.nix"
  ];

  nixpkgs.hostPlatform = "aarch64-linux";
  hardware.enableRedistributableFirmware = true;

  # The system partition keeps its size; the data partition takes the rest.
  sdImage.expandOnBoot = false;
}
