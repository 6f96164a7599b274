# Puts Node 24 first on PATH when the `node` on PATH is older: source it, don't run it.
#
#   source scripts/use-node-24.sh     # .ci/run does this; you can too, in your shell
#
# Node 24 comes from the npm registry package node-linux-<arch> (the official binary, checked by
# npm against the registry's integrity hash), so a machine needs only npm, no root and no nvm.
# It is kept in ${XDG_CACHE_HOME:-$HOME/.cache}/mailgate-node and reused while it is Node 24.
# npm stays the machine's own: it runs on whichever `node` comes first on PATH.

mailgate_use_node_24() {
  local want=24 cache arch pkg tgz tmp major fetched
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/mailgate-node"
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -ge "$want" ]; then return 0; fi

  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "use-node-24: no node-linux package for $(uname -m); install Node $want yourself" >&2; return 1 ;;
  esac
  pkg="node-linux-$arch@$want"

  if [ "$("$cache/package/bin/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" != "$want" ]; then
    echo "use-node-24: node on PATH is $(node -v 2>/dev/null || echo missing); fetching $pkg into $cache" >&2
    mkdir -p "$cache" || return 1
    # Extract beside the cache and move in whole, so a run interrupted mid-way leaves no half a node.
    tmp="$(mktemp -d "$cache/.fetch.XXXXXX")" || return 1
    fetched=1
    if tgz="$(cd "$tmp" && npm pack "$pkg" --silent --no-audit --no-fund)" &&
      tar -xzf "$tmp/$tgz" -C "$tmp" &&
      rm -rf "$cache/package" &&
      mv "$tmp/package" "$cache/package"; then
      fetched=0
    fi
    rm -rf "$tmp"
    if [ "$fetched" -ne 0 ]; then echo "use-node-24: could not fetch $pkg" >&2; return 1; fi
  fi

  PATH="$cache/package/bin:$PATH"
  export PATH
  hash -r
  if [ "$(node -p 'process.versions.node.split(".")[0]')" != "$want" ]; then
    echo "use-node-24: $cache/package/bin/node is not Node $want" >&2
    return 1
  fi
  echo "use-node-24: using Node $(node -v) from $cache/package/bin" >&2
}

mailgate_use_node_24
