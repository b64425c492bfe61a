# services.leaf: Leaf as a NixOS service, with the unit semantics of systemd/ (Type=notify,
# watchdog, Restart=always, StateDirectory, hardening) and nats-server from nixpkgs.
{
  lib,
  config,
  pkgs,
  ...
}:
let
  cfg = config.services.leaf;
  toml = pkgs.formats.toml { };
  dataDir = "/var/lib/leaf";

  # The settings file, checked by `leaf check-config` so that a bad setting fails the
  # build, not the box at the venue.
  configFile =
    pkgs.runCommand "leaf.toml"
      {
        nativeBuildInputs = [ cfg.package ];
        settings = toml.generate "leaf-settings.toml" cfg.settings;
      }
      ''
        leaf check-config "$settings"
        cp "$settings" "$out"
      '';

  port = lib.toInt (lib.last (lib.splitString ":" cfg.settings.listen));

  # Every setting's path and value, to keep credentials out of the (world-readable) store.
  leaves =
    prefix: value:
    if lib.isAttrs value then
      lib.concatLists (lib.mapAttrsToList (name: leaves (prefix ++ [ name ])) value)
    else
      [ { path = prefix; inherit value; } ];
  secretLike = lib.filter (
    s:
    lib.any (part: builtins.match ".*(password|passwd|secret|token|credential|key).*" (lib.toLower part) != null) s.path
    || (lib.isString s.value && builtins.match "[a-z]+://[^/]*@.*" s.value != null)
  ) (leaves [ ] cfg.settings);

  unit = {
    User = "leaf";
    Group = "leaf";
    StateDirectory = "leaf";
    StateDirectoryMode = "0700";
  };
in
{
  options.services.leaf = {
    enable = lib.mkEnableOption "Leaf, the poker tournament appliance";

    package = lib.mkOption {
      type = lib.types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./package.nix { }";
      description = "The Leaf package (the binary with the web app built in).";
    };

    natsPackage = lib.mkPackageOption pkgs "nats-server" { };

    settings = lib.mkOption {
      description = ''
        Leaf's settings (README, "Configuration"), written to a TOML file in the store and
        validated with `leaf check-config` at build time. Never put credentials here: the
        store is world-readable. The signing key lives in /var/lib/leaf/secrets.
      '';
      default = { };
      example = {
        venue = "riverside";
        http.cors_origins = [ "https://league.example.org" ];
      };
      type = lib.types.submodule {
        freeformType = toml.type;
        options = {
          listen = lib.mkOption {
            type = lib.types.str;
            default = "[::]:80";
            description = "Address and port; port 80 lets phones use http://leaf.local.";
          };
          data = lib.mkOption {
            type = lib.types.str;
            default = dataDir;
            readOnly = true;
            description = "The data directory (the StateDirectory; a partition on the images).";
          };
          nats = lib.mkOption {
            default = { };
            description = "The managed nats-server.";
            type = lib.types.submodule {
              freeformType = toml.type;
              options.server = lib.mkOption {
                type = lib.types.str;
                default = lib.getExe cfg.natsPackage;
                defaultText = lib.literalExpression "lib.getExe config.services.leaf.natsPackage";
                description = "The nats-server binary Leaf starts (2.12 or newer).";
              };
            };
          };
        };
      };
    };

    openFirewall = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Open the port of `settings.listen` in the firewall.";
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [
      {
        assertion = secretLike == [ ];
        message = ''
          services.leaf.settings would put credentials into the world-readable Nix store:
          ${lib.concatMapStringsSep ", " (s: lib.concatStringsSep "." s.path) secretLike}.
          Leaf keeps its secrets in ${dataDir}/secrets; use a NATS server without
          credentials in the URL.
        '';
      }
      {
        assertion = lib.versionAtLeast cfg.natsPackage.version "2.12";
        message = "services.leaf needs nats-server 2.12 or newer (natsPackage is ${cfg.natsPackage.version}).";
      }
    ];

    users.users.leaf = {
      isSystemUser = true;
      group = "leaf";
      home = dataDir;
      description = "Leaf tournament appliance";
    };
    users.groups.leaf = { };

    networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall [ port ];

    # First boot: the data directory and the signing key, never in the store.
    systemd.services.leaf-provision = {
      description = "Leaf first boot: create the data directory and signing key";
      before = [ "leaf.service" ];
      unitConfig = {
        ConditionPathExists = "!${dataDir}/secrets/jwt.key";
        RequiresMountsFor = dataDir;
      };
      serviceConfig = import ./hardening.nix // unit // {
        Type = "oneshot";
        ExecStart = "${lib.getExe cfg.package} provision --data ${dataDir}";
        CapabilityBoundingSet = "";
        PrivateNetwork = true;
        RestrictAddressFamilies = "AF_UNIX";
      };
    };

    systemd.services.leaf = {
      description = "Leaf poker tournament appliance";
      wantedBy = [ "multi-user.target" ];
      wants = [ "leaf-provision.service" ];
      after = [
        "network.target"
        "leaf-provision.service"
      ];
      startLimitIntervalSec = 0;
      unitConfig.RequiresMountsFor = dataDir;
      serviceConfig = import ./hardening.nix // unit // {
        Type = "notify";
        NotifyAccess = "main";
        ExecStart = "${lib.getExe cfg.package} serve --config ${configFile} --data ${dataDir}";
        WorkingDirectory = dataDir;
        WatchdogSec = "10s";
        Restart = "always";
        RestartSec = "1s";
        TimeoutStartSec = "90s";
        TimeoutStopSec = "15s";
        # SIGTERM to leaf only: it stops its nats-server child last.
        KillMode = "mixed";
        LimitCORE = 0;
        LimitNOFILE = 65536;
        # Binding a port below 1024, and setting the clock when an admin sets the
        # box's time from a phone (a Pi has no real-time clock).
        AmbientCapabilities = [ "CAP_SYS_TIME" ] ++ lib.optional (port < 1024) "CAP_NET_BIND_SERVICE";
        CapabilityBoundingSet = [ "CAP_SYS_TIME" ] ++ lib.optional (port < 1024) "CAP_NET_BIND_SERVICE";
        ProtectClock = false;
        SystemCallFilter = [
          "@system-service"
          "~@privileged @resources"
          "@clock"
        ];
        RestrictAddressFamilies = [
          "AF_UNIX"
          "AF_INET"
          "AF_INET6"
        ];
      };
    };
  };
}
