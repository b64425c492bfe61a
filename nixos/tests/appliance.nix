# NixOS VM test: services.leaf boots healthy, the first boot makes the signing key once,
# a stopped leaf is killed by the watchdog and restarted, and data and the key survive
# a reboot. (tests/appliance/nspawn.sh checks the same with systemd/ on Debian.)
{ module }:
{
  name = "leaf-appliance";

  nodes.machine =
    { pkgs, ... }:
    {
      imports = [ module ];
      services.leaf.enable = true;
      environment.systemPackages = [ pkgs.curl ];
      virtualisation.memorySize = 1024;
    };

  testScript = ''
    import json

    def api(path):
        return json.loads(machine.succeed(f"curl -fsS http://127.0.0.1{path}"))

    def healthy():
        machine.wait_until_succeeds(
            "curl -fsS http://127.0.0.1/api/health | grep -q '\"status\":\"ok\"'", timeout=60
        )

    machine.wait_for_unit("leaf.service")
    healthy()

    with subtest("first boot makes the signing key, 0600, owned by leaf"):
        machine.succeed("journalctl -u leaf-provision.service | grep -q 'created /var/lib/leaf/secrets/jwt.key'")
        machine.succeed("test \"$(stat -c '%a %U' /var/lib/leaf/secrets/jwt.key)\" = '600 leaf'")
        key = machine.succeed("sha256sum /var/lib/leaf/secrets/jwt.key")

    with subtest("the kiosk page answers and the box shows the setup code"):
        machine.succeed("curl -fsS http://127.0.0.1/display | grep -q '<html'")
        code = api("/api/setup")["code"]
        assert code, "no setup code for the local display"
        machine.succeed(
            "curl -fsS -H 'content-type: application/json' "
            f"-d '{{\"code\":\"{code}\",\"name\":\"Ada\",\"pin\":\"246810\"}}' "
            "http://127.0.0.1/api/setup"
        )
        assert not api("/api/setup")["needed"]

    with subtest("kill -STOP leaf: the watchdog kills and restarts it"):
        pid = machine.succeed("systemctl show -p MainPID --value leaf.service").strip()
        machine.succeed(f"kill -STOP {pid}")
        machine.wait_until_succeeds("journalctl -u leaf.service | grep -q 'Watchdog timeout'", timeout=60)
        machine.wait_until_succeeds(
            f"test \"$(systemctl show -p MainPID --value leaf.service)\" != {pid} "
            "&& systemctl is-active leaf.service",
            timeout=60,
        )
        healthy()
        assert not api("/api/setup")["needed"]

    with subtest("data and the key survive a reboot"):
        machine.shutdown()
        machine.start()
        machine.wait_for_unit("leaf.service")
        healthy()
        machine.succeed("test \"$(systemctl show -p ConditionResult --value leaf-provision.service)\" = no")
        assert machine.succeed("sha256sum /var/lib/leaf/secrets/jwt.key") == key
        assert not api("/api/setup")["needed"]
  '';
}
