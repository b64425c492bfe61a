# /var/lib/leaf on its own partition, found by its label (leaf-data). The image carries
# only the system; on first boot this creates the data partition in the free space after
# the system, so it fills the card or disk whatever its size. Reflashing the system never
# needs to touch it, and a backup is one partition.
{ pkgs, ... }:
let
  label = "leaf-data";
in
{
  systemd.services.leaf-data-partition = {
    description = "Leaf first boot: data partition (${label}) on the rest of the boot disk";
    wantedBy = [ "var-lib-leaf.mount" ];
    before = [
      "var-lib-leaf.mount"
      "shutdown.target"
    ];
    conflicts = [ "shutdown.target" ];
    unitConfig.DefaultDependencies = false;
    serviceConfig = {
      Type = "oneshot";
      RemainAfterExit = true;
    };
    path = with pkgs; [
      coreutils
      e2fsprogs
      gnugrep
      systemd
      util-linux
    ];
    script = ''
      udevadm settle
      if blkid -c /dev/null -t LABEL=${label} -o device >/dev/null; then
        exit 0 # made on an earlier boot
      fi
      root=$(findmnt -n -o SOURCE /)
      disk=/dev/$(lsblk -n -o PKNAME "$root")
      echo "creating the ${label} partition on the free space of $disk"
      # A GPT image written to a larger disk keeps its backup table mid-disk: move it.
      sfdisk --relocate gpt-bak-std "$disk" || true
      echo ',,L' | sfdisk --append --no-reread "$disk"
      part=$(sfdisk -l -q -o Device "$disk" | tail -n 1)
      partx --add --nr "''${part##*[!0-9]}" "$disk"
      udevadm settle
      mkfs.ext4 -q -L ${label} "$part"
      udevadm settle
    '';
  };

  fileSystems."/var/lib/leaf" = {
    device = "/dev/disk/by-label/${label}";
    fsType = "ext4";
    options = [
      "noatime"
      "x-systemd.device-timeout=5min"
    ];
  };
}
