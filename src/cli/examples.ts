/**
 * The examples at the end of each command's --help (members, connect, export, import and init
 * carry their own, beside their definitions).
 */
export const EXAMPLES: Readonly<Record<string, string>> = {
  start: `
Examples:
  chorus start                                   # data in ./chorus-data, JSON-RPC on 127.0.0.1:7070
  chorus start --data /var/lib/chorus --rpc 127.0.0.1:0 --no-mdns
  chorus start --config chorus/chorus.json --bootstrap /ip4/10.0.0.5/tcp/7071/p2p/12D3KooW…
  CHORUS_LOG_LEVEL=debug chorus start --data ./n1 --listen /ip4/127.0.0.1/tcp/0
When ready it prints one line: ready <RPC URL> peer=<id> listen=<addresses>.`,
  cluster: `
Examples:
  chorus cluster --nodes 3                       # three local nodes in temp dirs; Ctrl-C stops them all
  chorus cluster --nodes 5 --data ./cluster --base-port 7100`,
  get: `
Examples:
  chorus get greeting                            # "hello"
  chorus get greeting --json                     # {"found":true,"value":"hello","conflict":false,"context":"…"}
  chorus get doc --all                           # every concurrent version, with its node and time
  chorus get doc --after <context> --url http://127.0.0.1:7072   # read your write on another node`,
  put: `
Examples:
  chorus put greeting hello                      # a plain string
  chorus put user/1 '{"name":"Ada"}'             # any JSON value
  chorus put doc '"merged"' --context <context>  # resolve siblings read with get --all --json
  chorus put order/7 '"paid"' --replicas 2 --timeout 3000   # return once 2 nodes hold it on disk
  chorus put order/7 '"paid"' --replicas majority           # more than half of the members`,
  del: `
Examples:
  chorus del greeting
  chorus del doc --context <context>
  chorus del order/7 --replicas 2`,
  scan: `
Examples:
  chorus scan --prefix user/
  chorus scan --space counter --json
  chorus scan --start a --end m --limit 100`,
  conflicts: `
Examples:
  chorus conflicts
  chorus conflicts --prefix doc/ --json`,
  incr: `
Examples:
  chorus incr visits
  chorus incr stock -5
  chorus incr stock -1 --replicas majority --timeout 2000`,
  count: `
Examples:
  chorus count visits`,
  sadd: `
Examples:
  chorus sadd tags red green
  chorus sadd tags blue --replicas 2`,
  srem: `
Examples:
  chorus srem tags green
  chorus srem tags green --replicas 2`,
  smembers: `
Examples:
  chorus smembers tags --json`,
  status: `
Examples:
  chorus status --url http://127.0.0.1:7070      # the node, its digest and its peers' digests
  chorus status --json`,
  peers: `
Examples:
  chorus peers
  chorus peers --json`,
  sync: `
Examples:
  chorus sync                                    # with a random connected peer
  chorus sync --peer 12D3KooW…`,
  watch: `
Examples:
  chorus watch                                   # every change, until Ctrl-C
  chorus watch --prefix user/ --json
  chorus watch --since <cursor>                  # what changed after the cursor a previous watch printed, then live`,
  changes: `
Examples:
  chorus changes                                 # every change the node keeps, oldest first; the cursor on stderr
  chorus changes --since <cursor>                # exactly the changes after it
  chorus changes --since <cursor> --prefix user/ --limit 100 --json   # {"changes":[…],"cursor":"…"}`,
  keygen: `
Examples:
  chorus keygen > cluster.key
  chorus keygen --out /etc/chorus/cluster.key    # mode 0600; an existing file is never overwritten`,
  verify: `
Examples:
  chorus verify --data ./chorus-data             # on a stopped node: the tree against the data`
}
