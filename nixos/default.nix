# services.leaf: the Leaf service (./leaf.nix) and its kiosk (./kiosk.nix).
{
  imports = [
    ./leaf.nix
    ./kiosk.nix
  ];
}
