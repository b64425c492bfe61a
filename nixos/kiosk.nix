# services.leaf.kiosk: the wall screen. Chromium, full screen in cage on the local
# display, shows Leaf's display page; sounds play without a click, the screen never
# blanks, and it starts again if it dies.
{
  lib,
  config,
  pkgs,
  ...
}:
let
  cfg = config.services.leaf.kiosk;
  port = lib.last (lib.splitString ":" config.services.leaf.settings.listen);
  wlr-randr = "${pkgs.wlr-randr}/bin/wlr-randr";

  kiosk = pkgs.writeShellScript "leaf-kiosk" ''
    ${lib.optionalString (cfg.rotation != 0) ''
      for output in $(${wlr-randr} | ${pkgs.gnugrep}/bin/grep -o '^[^ ]*'); do
        ${wlr-randr} --output "$output" --transform ${toString cfg.rotation}
      done
    ''}
    # Leaf may still be starting: Chromium would show an error page and stay there.
    until ${pkgs.curl}/bin/curl -fs -o /dev/null --max-time 2 ${lib.escapeShellArg cfg.url}; do
      sleep 1
    done
    exec ${pkgs.chromium}/bin/chromium \
      --kiosk --ozone-platform=wayland \
      --user-data-dir="$XDG_RUNTIME_DIR/chromium" \
      --autoplay-policy=no-user-gesture-required \
      --noerrdialogs --disable-infobars --no-first-run \
      --disable-session-crashed-bubble --disable-features=Translate \
      --check-for-update-interval=31536000 \
      ${lib.escapeShellArg cfg.url}
  '';
in
{
  options.services.leaf.kiosk = {
    enable = lib.mkEnableOption "the kiosk: Leaf's display page full screen on the local display";

    url = lib.mkOption {
      type = lib.types.str;
      default = "http://127.0.0.1:${port}/display";
      defaultText = lib.literalExpression ''"http://127.0.0.1:<port of settings.listen>/display"'';
      description = "The page the kiosk shows; the local display sees the first-boot setup code.";
    };

    rotation = lib.mkOption {
      type = lib.types.enum [
        0
        90
        180
        270
      ];
      default = 0;
      description = "Turn the picture clockwise by this many degrees (a screen mounted on its side).";
    };
  };

  config = lib.mkIf (config.services.leaf.enable && cfg.enable) {
    users.users.kiosk = {
      isNormalUser = true;
      description = "Leaf kiosk";
      extraGroups = [
        "video"
        "audio"
      ];
    };

    services.cage = {
      enable = true;
      user = "kiosk";
      program = kiosk;
      # Start without keyboard or mouse attached.
      environment.WLR_LIBINPUT_NO_DEVICES = "1";
    };

    systemd.services."cage-tty1" = {
      after = [ "leaf.service" ];
      wants = [ "leaf.service" ];
      startLimitIntervalSec = 0;
      serviceConfig = {
        Restart = "always";
        RestartSec = "2s";
      };
    };

    # Sound for the clock's alerts.
    services.pipewire = {
      enable = true;
      alsa.enable = true;
      pulse.enable = true;
    };

    # The console never blanks; cage itself never does.
    boot.kernelParams = [ "consoleblank=0" ];
  };
}
