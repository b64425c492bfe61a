# Leaf: the Rust binary with the web app built in, from the lock files
# (Cargo.lock, frontend/package-lock.json); no hashes to update.
{
  lib,
  rustPlatform,
  buildNpmPackage,
  importNpmLock,
  nodejs_20,
}:
let
  root = ../.;
  frontendSrc = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      ../frontend/package.json
      ../frontend/package-lock.json
      ../frontend/svelte.config.js
      ../frontend/vite.config.js
      ../frontend/jsconfig.json
      ../frontend/src
      ../frontend/static
    ];
  };

  frontend = buildNpmPackage {
    pname = "leaf-frontend";
    inherit (cargo.package) version;
    src = "${frontendSrc}/frontend";
    nodejs = nodejs_20;
    npmDeps = importNpmLock { npmRoot = ../frontend; };
    inherit (importNpmLock) npmConfigHook;
    installPhase = ''
      runHook preInstall
      cp -r build $out
      runHook postInstall
    '';
  };

  cargo = lib.importTOML ../Cargo.toml;
in
rustPlatform.buildRustPackage {
  pname = "leaf";
  inherit (cargo.package) version;
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      ../Cargo.toml
      ../Cargo.lock
      ../src
      ../migrations
    ];
  };
  cargoLock.lockFile = ../Cargo.lock;

  # rust-embed takes the web app from frontend/build in a release build.
  preBuild = ''
    mkdir -p frontend
    cp -r ${frontend} frontend/build
  '';

  # The tests need nats-server, network sockets and a browser: `make test` runs them.
  doCheck = false;

  passthru = { inherit frontend; };

  meta = {
    description = "Leaf: the tournament appliance for poker venues";
    mainProgram = "leaf";
    platforms = lib.platforms.linux;
  };
}
