# Raspberry Pi 4 (and 400, CM4).
{ nixos-hardware, ... }:
{
  imports = [
    ./rpi.nix
    nixos-hardware.nixosModules.raspberry-pi-4
  ];
  sdImage.imageBaseName = "leaf-rpi4";
  # The display through KMS, for cage.
  hardware.raspberry-pi."4".fkms-3d.enable = true;
}
