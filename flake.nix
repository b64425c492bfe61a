{
  description = "Leaf: the tournament appliance for poker venues";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";
    nixos-hardware.url = "github:NixOS/nixos-hardware";
  };

  outputs =
    {
      self,
      nixpkgs,
      nixos-hardware,
    }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forEachSystem = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages."${system}");

      appliance =
        hardware:
        lib.nixosSystem {
          modules = [ hardware ];
          specialArgs = { inherit nixos-hardware; };
        };
    in
    {
      nixosModules.default = ./nixos;

      # The appliances; a box updates itself from these (README, "Updating").
      nixosConfigurations = {
        leaf-x86 = appliance ./image/x86.nix;
        leaf-rpi4 = appliance ./image/rpi4.nix;
        leaf-rpi5 = appliance ./image/rpi5.nix;
      };

      packages = lib.recursiveUpdate (forEachSystem (pkgs: {
        default = pkgs.callPackage ./nixos/package.nix { };
      })) {
        x86_64-linux.image-x86 = self.nixosConfigurations.leaf-x86.config.system.build.images.raw-efi;
        aarch64-linux.image-rpi = self.nixosConfigurations.leaf-rpi4.config.system.build.sdImage;
        aarch64-linux.image-rpi5 = self.nixosConfigurations.leaf-rpi5.config.system.build.sdImage;
      };

      checks = forEachSystem (pkgs: {
        vm = pkgs.testers.runNixOSTest (import ./nixos/tests/appliance.nix { module = self.nixosModules.default; });
      });
    };
}
