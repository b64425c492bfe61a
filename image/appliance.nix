# What every Leaf box is, whatever the hardware: Leaf on port 80 with the kiosk, found
# as leaf.local, the clock from NTP when the network has it, a bounded journal, SSH by
# key only. The hardware files (x86.nix, rpi4.nix, rpi5.nix) add the boot and the image.
{ lib, ... }:
{
  imports = [
    ../nixos
    ./data-partition.nix
  ];

  services = {
    leaf = {
      enable = true;
      openFirewall = true;
      kiosk.enable = true;
    };

    # Phones find the box as http://leaf.local.
    avahi = {
      enable = true;
      nssmdns4 = true;
      openFirewall = true;
      publish = {
        enable = true;
        addresses = true;
      };
    };

    # NTP when the network has it; without one the box runs on its own clock.
    timesyncd.enable = true;

    journald.extraConfig = ''
      SystemMaxUse=200M
      RuntimeMaxUse=50M
    '';

    # SSH with keys only (users.users.root.openssh.authorizedKeys.keys below).
    openssh = {
      enable = true;
      settings = {
        PasswordAuthentication = false;
        KbdInteractiveAuthentication = false;
        PermitRootLogin = "prohibit-password";
      };
    };
  };

  networking.hostName = "leaf";
  # DHCP on whatever wired network the venue has.
  networking.useDHCP = lib.mkDefault true;
  time.timeZone = lib.mkDefault "UTC";

  # Add your public key here before building the image; no account has a password.
  users.users.root.openssh.authorizedKeys.keys = [ ];

  # Updates arrive as new system generations (README, "Updating").
  nix.settings.experimental-features = [
    "nix-command"
    "flakes"
  ];
  boot.loader.timeout = lib.mkDefault 1;

  system.stateVersion = "25.11";
}
