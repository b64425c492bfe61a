# Raspberry Pi 5.
{
  lib,
  nixos-hardware,
  pkgs,
  ...
}:
let
  uboot = pkgs.buildUBoot {
    defconfig = "rpi_arm64_defconfig";
    extraMeta.platforms = [ "aarch64-linux" ];
    filesToInstall = [ "u-boot.bin" ];
  };
in
{
  imports = [
    ./rpi.nix
    nixos-hardware.nixosModules.raspberry-pi-5
  ];
  sdImage.imageBaseName = "leaf-rpi5";
  # The SD image's firmware config names U-Boot for the Pi 3 and 4 only.
  sdImage.populateFirmwareCommands = lib.mkAfter ''
    cp ${uboot}/u-boot.bin firmware/u-boot-rpi5.bin
    cp ${pkgs.raspberrypifw}/share/raspberrypi/boot/bcm2712*.dtb firmware/
    chmod u+w firmware/config.txt
    printf '\n[pi5]\nkernel=u-boot-rpi5.bin\n\n[all]\n' >> firmware/config.txt
  '';
}
