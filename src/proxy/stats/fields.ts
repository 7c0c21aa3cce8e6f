/**
 * HAProxy 2.6's statistics fields, as `show stat` / `show info` and the stats page publish them:
 * the CSV column order, each field's description (`show stat desc`, Prometheus `# HELP`) and its
 * typed tags (origin, nature, scope : type) per row kind, taken from HAProxy 2.6.12's own output
 * (test/unit/proxy/stats/fixtures/haproxy-2.6/show-stat-typed-desc.txt).
 *
 * Positions 0..102 are HAProxy's static fields; 103.. are the extra-module fields (ssl, h2, h1)
 * that 2.6 appends after a `-` column in CSV.
 */

/** F = frontend row, B = backend row, S = server row (HAProxy's typed-output letters). */
export type RowKind = 'F' | 'B' | 'S'

export type FieldType = 'u32' | 'u64' | 's32' | 'str'

export interface FieldSpec {
  readonly name: string
  readonly desc: string
  /** 'ONS:type' per kind the field applies to: origin, nature, scope letters and the value type. */
  readonly tags: Partial<Record<RowKind, string>>
}

type Spec = readonly [string, string, Partial<Record<RowKind, string>>]

const SPECS: readonly Spec[] = [
  ['pxname', 'Proxy name', { F: 'KNS:str', B: 'KNS:str', S: 'KNS:str' }],
  ['svname', 'Server name', { F: 'KNS:str', B: 'KNS:str', S: 'KNS:str' }],
  ['qcur', 'Number of current queued connections', { B: 'MGP:u32', S: 'MGP:u32' }],
  ['qmax', 'Highest value of queued connections encountered since process started', { B: 'MMP:u32', S: 'MMP:u32' }],
  ['scur', 'Number of current sessions on the frontend, backend or server', { F: 'MGP:u32', B: 'MGP:u32',
    S: 'MGP:u32' }],
  ['smax', 'Highest value of current sessions encountered since process started', { F: 'MMP:u32', B: 'MMP:u32',
    S: 'MMP:u32' }],
  ['slim', 'Frontend/listener/server\'s maxconn, backend\'s fullconn', { F: 'CLP:u32', B: 'CLP:u32', S: 'CLP:u32' }],
  ['stot', 'Total number of sessions since process started', { F: 'MCP:u64', B: 'MCP:u64', S: 'MCP:u64' }],
  ['bin', 'Total number of request bytes since process started', { F: 'MCP:u64', B: 'MCP:u64', S: 'MCP:u64' }],
  ['bout', 'Total number of response bytes since process started', { F: 'MCP:u64', B: 'MCP:u64', S: 'MCP:u64' }],
  ['dreq', 'Total number of denied requests since process started', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['dresp', 'Total number of denied responses since process started', { F: 'MCP:u64', B: 'MCP:u64', S: 'MCP:u64' }],
  ['ereq', 'Total number of invalid requests since process started', { F: 'MCP:u64' }],
  ['econ', 'Total number of failed connections to server since the worker process started', { B: 'MCP:u64',
    S: 'MCP:u64' }],
  ['eresp', 'Total number of invalid responses since the worker process started', { B: 'MCP:u64', S: 'MCP:u64' }],
  ['wretr', 'Total number of server connection retries since the worker process started', { B: 'MCP:u64',
    S: 'MCP:u64' }],
  ['wredis', 'Total number of server redispatches due to connection failures since the worker process started',
    { B: 'MCP:u64', S: 'MCP:u64' }],
  ['status', 'Frontend/listen status: OPEN/WAITING/FULL/STOP; backend: UP/DOWN; server: last check status',
    { F: 'SGP:str', B: 'SGP:str', S: 'SGP:str' }],
  ['weight', 'Server\'s effective weight, or sum of active servers\' effective weights for a backend', { B: 'MaP:u32',
    S: 'MaP:u32' }],
  ['act', 'Total number of active UP servers with a non-zero weight', { B: 'MGP:u32', S: 'SGP:u32' }],
  ['bck', 'Total number of backup UP servers with a non-zero weight', { B: 'MGP:u32', S: 'SGP:u32' }],
  ['chkfail', 'Total number of failed individual health checks per server/backend, since the worker process started',
    { S: 'MCP:u64' }],
  ['chkdown',
    ('Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker ' +
      'process started'), { B: 'MCP:u64', S: 'MCP:u64' }],
  ['lastchg', 'How long ago the last server state changed, in seconds', { B: 'MAP:u32', S: 'MAP:u32' }],
  ['downtime', 'Total time spent in DOWN state, for server or backend', { B: 'MCP:u32', S: 'MCP:u32' }],
  ['qlimit', 'Limit on the number of connections in queue, for servers only (maxqueue argument)', { S: 'CGS:u32' }],
  ['pid', 'Relative worker process number (1)', { F: 'KGP:u32', B: 'KGP:u32', S: 'KGP:u32' }],
  ['iid', 'Frontend or Backend numeric identifier (\'id\' setting)', { F: 'KGS:u32', B: 'KGS:u32', S: 'KGS:u32' }],
  ['sid', 'Server numeric identifier (\'id\' setting)', { F: 'KGS:u32', B: 'KGS:u32', S: 'KGS:u32' }],
  ['throttle', 'Throttling ratio applied to a server\'s maxconn and weight during the slowstart period (0 to 100%)',
    { S: 'MaP:u32' }],
  ['lbtot',
    ('Total number of requests routed by load balancing since the worker process started (ignores queue pop and ' +
      'stickiness)'), { B: 'MCP:u64', S: 'MCP:u64' }],
  ['tracked', 'Name of the other server this server tracks for its state', { S: 'CNS:str' }],
  ['type', 'Type of the object (Listener, Frontend, Backend, Server)', { F: 'CGS:u32', B: 'CGS:u32', S: 'CGS:u32' }],
  ['rate', ('Total number of sessions processed by this object over the last second (sessions for ' +
    'listeners/frontends, requests for backends/servers)'), { F: 'MRP:u32', B: 'MGP:u32', S: 'MRP:u32' }],
  ['rate_lim', 'Limit on the number of sessions accepted in a second (frontend only, \'rate-limit sessions\' setting)',
    { F: 'CLP:u32' }],
  ['rate_max', 'Highest value of sessions per second observed since the worker process started', { F: 'MMP:u32',
    B: 'MGP:u32', S: 'MMP:u32' }],
  ['check_status',
    'Status report of the server\'s latest health check, prefixed with \'*\' if a check is currently in progress',
      { S: 'MOP:str' }],
  ['check_code', 'HTTP/SMTP/LDAP status code reported by the latest server health check', { S: 'MOP:u32' }],
  ['check_duration', 'Total duration of the latest server health check, in milliseconds', { S: 'MDP:u64' }],
  ['hrsp_1xx',
    'Total number of HTTP responses with status 100-199 returned by this object since the worker process started',
      { F: 'MCP:u64', B: 'MCP:u64', S: 'MCP:u64' }],
  ['hrsp_2xx',
    'Total number of HTTP responses with status 200-299 returned by this object since the worker process started',
      { F: 'MCP:u64', B: 'MCP:u64', S: 'MCP:u64' }],
  ['hrsp_3xx',
    'Total number of HTTP responses with status 300-399 returned by this object since the worker process started',
      { F: 'MCP:u64', B: 'MCP:u64', S: 'MCP:u64' }],
  ['hrsp_4xx',
    'Total number of HTTP responses with status 400-499 returned by this object since the worker process started',
      { F: 'MCP:u64', B: 'MCP:u64', S: 'MCP:u64' }],
  ['hrsp_5xx',
    'Total number of HTTP responses with status 500-599 returned by this object since the worker process started',
      { F: 'MCP:u64', B: 'MCP:u64', S: 'MCP:u64' }],
  ['hrsp_other',
    ('Total number of HTTP responses with status <100, >599 returned by this object since the worker process ' +
      'started (error -1 included)'), { F: 'MCP:u64', B: 'MCP:u64', S: 'MCP:u64' }],
  ['hanafail',
    'Total number of failed checks caused by an \'on-error\' directive after an \'observe\' condition matched',
      { S: 'MCP:u64' }],
  ['req_rate', 'Number of HTTP requests processed over the last second on this object', { F: 'MRP:u32' }],
  ['req_rate_max', 'Highest value of http requests observed since the worker process started', { F: 'MMP:u32' }],
  ['req_tot', 'Total number of HTTP requests processed by this object since the worker process started', { F: 'MCP:u64',
    B: 'MCP:u64', S: 'MCP:u64' }],
  ['cli_abrt', 'Total number of requests or connections aborted by the client since the worker process started',
    { B: 'MCP:u64', S: 'MCP:u64' }],
  ['srv_abrt', 'Total number of requests or connections aborted by the server since the worker process started',
    { B: 'MCP:u64', S: 'MCP:u64' }],
  ['comp_in', 'Total number of bytes submitted to the HTTP compressor for this object since the worker process started',
    { F: 'MCP:u64', B: 'MCP:u64' }],
  ['comp_out', 'Total number of bytes emitted by the HTTP compressor for this object since the worker process started',
    { F: 'MCP:u64', B: 'MCP:u64' }],
  ['comp_byp',
    ('Total number of bytes that bypassed HTTP compression for this object since the worker process started ' +
      '(CPU/memory/bandwidth limitation)'), { F: 'MCP:u64', B: 'MCP:u64' }],
  ['comp_rsp', 'Total number of HTTP responses that were compressed for this object since the worker process started',
    { F: 'MCP:u64', B: 'MCP:u64' }],
  ['lastsess', 'How long ago some traffic was seen on this object on this worker process, in seconds', { B: 'MAP:s32',
    S: 'MAP:s32' }],
  ['last_chk', 'Short description of the latest health check report for this server (see also check_desc)',
    { S: 'MOP:str' }],
  ['last_agt', 'Short description of the latest agent check report for this server (see also agent_desc)',
    { S: 'MOP:str' }],
  ['qtime', 'Time spent in the queue, in milliseconds, averaged over the 1024 last requests (backend/server)',
    { B: 'MaP:u32', S: 'MaP:u32' }],
  ['ctime',
    ('Time spent waiting for a connection to complete, in milliseconds, averaged over the 1024 last requests ' +
      '(backend/server)'), { B: 'MaP:u32', S: 'MaP:u32' }],
  ['rtime',
    'Time spent waiting for a server response, in milliseconds, averaged over the 1024 last requests (backend/server)',
      { B: 'MaP:u32', S: 'MaP:u32' }],
  ['ttime',
    ('Total request+response time (request+queue+connect+response+processing), in milliseconds, averaged over the ' +
      '1024 last requests (backend/server)'), { B: 'MaP:u32', S: 'MaP:u32' }],
  ['agent_status',
    'Status report of the server\'s latest agent check, prefixed with \'*\' if a check is currently in progress',
      { S: 'MOP:str' }],
  ['agent_code', 'Status code reported by the latest server agent check', { S: 'MOP:u32' }],
  ['agent_duration', 'Total duration of the latest server agent check, in milliseconds', { S: 'MDP:u64' }],
  ['check_desc', 'Textual description of the latest health check report for this server', { S: 'MOP:str' }],
  ['agent_desc', 'Textual description of the latest agent check report for this server', { S: 'MOP:str' }],
  ['check_rise', 'Number of successful health checks before declaring a server UP (server \'rise\' setting)',
    { S: 'CGS:u32' }],
  ['check_fall', 'Number of failed health checks before declaring a server DOWN (server \'fall\' setting)',
    { S: 'CGS:u32' }],
  ['check_health', 'Current server health check level (0..fall-1=DOWN, fall..rise-1=UP)', { S: 'CGS:u32' }],
  ['agent_rise', 'Number of successful agent checks before declaring a server UP (server \'rise\' setting)',
    { S: 'CGS:u32' }],
  ['agent_fall', 'Number of failed agent checks before declaring a server DOWN (server \'fall\' setting)',
    { S: 'CGS:u32' }],
  ['agent_health', 'Current server agent check level (0..fall-1=DOWN, fall..rise-1=UP)', { S: 'CGS:u32' }],
  ['addr', 'Server\'s address:port, shown only if show-legends is set, or at levels oper/admin for the CLI',
    { S: 'CGS:str' }],
  ['cookie',
    ('Backend\'s cookie name or Server\'s cookie value, shown only if show-legends is set, or at levels oper/admin ' +
      'for the CLI'), { B: 'CNS:str', S: 'CNS:str' }],
  ['mode', '\'mode\' setting (tcp/http/health/cli)', { F: 'CGS:str', B: 'CGS:str', S: 'CGS:str' }],
  ['algo', ('Backend\'s load balancing algorithm, shown only if show-legends is set, or at levels oper/admin for ' +
    'the CLI'), { B: 'CGS:str' }],
  ['conn_rate', 'Number of new connections accepted over the last second on the frontend for this worker process',
    { F: 'MRP:u32' }],
  ['conn_rate_max', 'Highest value of connections per second observed since the worker process started',
    { F: 'MMP:u32' }],
  ['conn_tot', 'Total number of new connections accepted on this frontend since the worker process started',
    { F: 'MCP:u64' }],
  ['intercepted',
    ('Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process ' +
      'started'), { F: 'MCP:u64' }],
  ['dcon', ('Total number of incoming connections blocked on a listener/frontend by a tcp-request connection rule ' +
    'since the worker process started'), { F: 'MCP:u64' }],
  ['dses', ('Total number of incoming sessions blocked on a listener/frontend by a tcp-request connection rule ' +
    'since the worker process started'), { F: 'MCP:u64' }],
  ['wrew', 'Total number of failed HTTP header rewrites since the worker process started', { F: 'MCP:u64', B: 'MCP:u64',
    S: 'MCP:u64' }],
  ['connect', 'Total number of outgoing connection attempts on this backend/server since the worker process started',
    { B: 'MCP:u64', S: 'MCP:u64' }],
  ['reuse', 'Total number of reused connection on this backend/server since the worker process started', { B: 'MCP:u64',
    S: 'MCP:u64' }],
  ['cache_lookups',
    'Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started',
      { F: 'MCP:u64', B: 'MCP:u64' }],
  ['cache_hits',
    'Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started',
      { F: 'MCP:u64', B: 'MCP:u64' }],
  ['srv_icur', 'Current number of idle connections available for reuse on this server', { S: 'MGP:u32' }],
  ['src_ilim', 'Limit on the number of available idle connections on this server (server \'pool_max_conn\' directive)',
    { S: 'CLP:u32' }],
  ['qtime_max', 'Maximum observed time spent in the queue, in milliseconds (backend/server)', { B: 'MMP:u32',
    S: 'MMP:u32' }],
  ['ctime_max', 'Maximum observed time spent waiting for a connection to complete, in milliseconds (backend/server)',
    { B: 'MMP:u32', S: 'MMP:u32' }],
  ['rtime_max', 'Maximum observed time spent waiting for a server response, in milliseconds (backend/server)',
    { B: 'MMP:u32', S: 'MMP:u32' }],
  ['ttime_max',
    ('Maximum observed total request+response time (request+queue+connect+response+processing), in milliseconds ' +
      '(backend/server)'), { B: 'MMP:u32', S: 'MMP:u32' }],
  ['eint', 'Total number of internal errors since process started', { F: 'MCP:u64', B: 'MCP:u64', S: 'MCP:u64' }],
  ['idle_conn_cur', 'Current number of unsafe idle connections', { S: 'MGP:u32' }],
  ['safe_conn_cur', 'Current number of safe idle connections', { S: 'MGP:u32' }],
  ['used_conn_cur', 'Current number of connections in use', { S: 'MGP:u32' }],
  ['need_conn_est', 'Estimated needed number of connections', { S: 'MGP:u32' }],
  ['uweight', 'Server\'s user weight, or sum of active servers\' user weights for a backend', { B: 'MaP:u32',
    S: 'MaP:u32' }],
  ['agg_server_status', 'Backend\'s aggregated gauge of servers\' status', { B: 'MGP:u32' }],
  ['agg_server_check_status', 'Backend\'s aggregated gauge of servers\' state check status', { B: 'MGP:u32' }],
  ['agg_check_status', 'Backend\'s aggregated gauge of servers\' state check status', { B: 'MGP:u32' }],
  ['ssl_sess', 'Total number of ssl sessions established', { F: 'MCP:u64', B: 'MCP:u64', S: 'MCP:u64' }],
  ['ssl_reused_sess', 'Total number of ssl sessions reused', { F: 'MCP:u64', B: 'MCP:u64', S: 'MCP:u64' }],
  ['ssl_failed_handshake', 'Total number of failed handshake', { F: 'MCP:u64', B: 'MCP:u64', S: 'MCP:u64' }],
  ['h2_headers_rcvd', 'Total number of received HEADERS frames', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h2_data_rcvd', 'Total number of received DATA frames', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h2_settings_rcvd', 'Total number of received SETTINGS frames', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h2_rst_stream_rcvd', 'Total number of received RST_STREAM frames', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h2_goaway_rcvd', 'Total number of received GOAWAY frames', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h2_detected_conn_protocol_errors', 'Total number of connection protocol errors', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h2_detected_strm_protocol_errors', 'Total number of stream protocol errors', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h2_rst_stream_resp', 'Total number of RST_STREAM sent on detected error', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h2_goaway_resp', 'Total number of GOAWAY sent on detected error', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h2_open_connections', 'Count of currently open connections', { F: 'MGP:u64', B: 'MGP:u64' }],
  ['h2_backend_open_streams', 'Count of currently open streams', { F: 'MGP:u64', B: 'MGP:u64' }],
  ['h2_total_connections', 'Total number of connections', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h2_backend_total_streams', 'Total number of streams', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h1_open_connections', 'Count of currently open connections', { F: 'MGP:u64', B: 'MGP:u64' }],
  ['h1_open_streams', 'Count of currently open streams', { F: 'MGP:u64', B: 'MGP:u64' }],
  ['h1_total_connections', 'Total number of connections', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h1_total_streams', 'Total number of streams', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h1_bytes_in', 'Total number of bytes received', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h1_bytes_out', 'Total number of bytes send', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h1_spliced_bytes_in', 'Total number of bytes received using kernel splicing', { F: 'MCP:u64', B: 'MCP:u64' }],
  ['h1_spliced_bytes_out', 'Total number of bytes sendusing kernel splicing', { F: 'MCP:u64', B: 'MCP:u64' }],
]

export const STAT_FIELDS: readonly FieldSpec[] = SPECS.map(([name, desc, tags]) => ({ name, desc, tags }))

/** Number of HAProxy's static fields; the CSV has a `-` column after them. */
export const STATIC_FIELD_COUNT = 103

export const FIELD_INDEX: ReadonlyMap<string, number> = new Map(STAT_FIELDS.map((f, i) => [f.name, i]))

/** The `show stat` CSV header line, without the trailing newline. */
export const CSV_HEADER = '# ' + STAT_FIELDS.map((f, i) => f.name + ',' + (i + 1 === STATIC_FIELD_COUNT ?
  '-,' : '')).join('')

export interface InfoSpec {
  readonly name: string
  /** 'ONS:type' */
  readonly tags: string
  readonly desc: string
}

const INFO_SPECS: readonly (readonly [string, string, string])[] = [
  ['Name', 'POS:str', 'Product name'],
  ['Version', 'POS:str', 'Product version'],
  ['Release_date', 'POS:str', 'Date of latest source code update'],
  ['Nbthread', 'CGS:u32', 'Number of started threads (global.nbthread)'],
  ['Nbproc', 'CGS:u32', 'Number of started worker processes (historical, always 1)'],
  ['Process_num', 'KGP:u32', 'Relative worker process number (1)'],
  ['Pid', 'SGP:u32', 'This worker process identifier for the system'],
  ['Uptime', 'MDP:str', 'How long ago this worker process was started (days+hours+minutes+seconds)'],
  ['Uptime_sec', 'MDP:u32', 'How long ago this worker process was started (seconds)'],
  ['Memmax_MB', 'CLP:u32', 'Worker process\'s hard limit on memory usage in MB (-m on command line)'],
  ['PoolAlloc_MB', 'MGP:u32', 'Amount of memory allocated in pools (in MB)'],
  ['PoolUsed_MB', 'MGP:u32', 'Amount of pool memory currently used (in MB)'],
  ['PoolFailed', 'MCP:u32', 'Number of failed pool allocations since this worker was started'],
  ['Ulimit-n', 'CLP:u32', 'Hard limit on the number of per-process file descriptors'],
  ['Maxsock', 'CLP:u32', 'Hard limit on the number of per-process sockets'],
  ['Maxconn', 'CLP:u32', 'Hard limit on the number of per-process connections (configured or imposed by Ulimit-n)'],
  ['Hard_maxconn', 'CLP:u32', 'Hard limit on the number of per-process connections (imposed by Memmax_MB or Ulimit-n)'],
  ['CurrConns', 'MGP:u32', 'Current number of connections on this worker process'],
  ['CumConns', 'MCP:u32', 'Total number of connections on this worker process since started'],
  ['CumReq', 'MCP:u32', 'Total number of requests on this worker process since started'],
  ['MaxSslConns', 'MMP:u32', 'Hard limit on the number of per-process SSL endpoints (front+back), 0=unlimited'],
  ['CurrSslConns', 'MGP:u32', 'Current number of SSL endpoints on this worker process (front+back)'],
  ['CumSslConns', 'MCP:u32', 'Total number of SSL endpoints on this worker process since started (front+back)'],
  ['Maxpipes', 'CLP:u32', 'Hard limit on the number of pipes for splicing, 0=unlimited'],
  ['PipesUsed', 'MGP:u32', 'Current number of pipes in use in this worker process'],
  ['PipesFree', 'MGP:u32', 'Current number of allocated and available pipes in this worker process'],
  ['ConnRate', 'MRP:u32', 'Number of front connections created on this worker process over the last second'],
  ['ConnRateLimit', 'CLP:u32', 'Hard limit for ConnRate (global.maxconnrate)'],
  ['MaxConnRate', 'MMP:u32',
    'Highest ConnRate reached on this worker process since started (in connections per second)'],
  ['SessRate', 'MRP:u32', 'Number of sessions created on this worker process over the last second'],
  ['SessRateLimit', 'CLP:u32', 'Hard limit for SessRate (global.maxsessrate)'],
  ['MaxSessRate', 'MRP:u32', 'Highest SessRate reached on this worker process since started (in sessions per second)'],
  ['SslRate', 'MRP:u32', 'Number of SSL connections created on this worker process over the last second'],
  ['SslRateLimit', 'CLP:u32', 'Hard limit for SslRate (global.maxsslrate)'],
  ['MaxSslRate', 'MMP:u32', 'Highest SslRate reached on this worker process since started (in connections per second)'],
  ['SslFrontendKeyRate', 'MGP:u32',
    'Number of SSL keys created on frontends in this worker process over the last second'],
  ['SslFrontendMaxKeyRate', 'MMP:u32',
    'Highest SslFrontendKeyRate reached on this worker process since started (in SSL keys per second)'],
  ['SslFrontendSessionReuse_pct', 'MGP:u32', 'Percent of frontend SSL connections which did not require a new key'],
  ['SslBackendKeyRate', 'MRP:u32',
    'Number of SSL keys created on backends in this worker process over the last second'],
  ['SslBackendMaxKeyRate', 'MMP:u32',
    'Highest SslBackendKeyRate reached on this worker process since started (in SSL keys per second)'],
  ['SslCacheLookups', 'MCP:u32',
    'Total number of SSL session ID lookups in the SSL session cache on this worker since started'],
  ['SslCacheMisses', 'MCP:u32',
    ('Total number of SSL session ID lookups that didn\'t find a session in the SSL session cache on this worker ' +
      'since started')],
  ['CompressBpsIn', 'MRP:u32',
    'Number of bytes submitted to the HTTP compressor in this worker process over the last second'],
  ['CompressBpsOut', 'MRP:u32',
    'Number of bytes emitted by the HTTP compressor in this worker process over the last second'],
  ['CompressBpsRateLim', 'CLP:u32', 'Limit of CompressBpsOut beyond which HTTP compression is automatically disabled'],
  ['ZlibMemUsage', 'MGP:u32',
    'Amount of memory currently used by HTTP compression on the current worker process (in bytes)'],
  ['MaxZlibMemUsage', 'CLP:u32',
    ('Limit on the amount of memory used by HTTP compression above which it is automatically disabled (in bytes, ' +
      'see global.maxzlibmem)')],
  ['Tasks', 'MGP:u32', 'Total number of tasks in the current worker process (active + sleeping)'],
  ['Run_queue', 'MGP:u32', 'Total number of active tasks+tasklets in the current worker process'],
  ['Idle_pct', 'MaP:u32', 'Percentage of last second spent waiting in the current worker thread'],
  ['node', 'COS:str', 'Node name (global.node)'],
  ['description', 'COS:str', 'Node description (global.description)'],
  ['Stopping', 'MGP:u32', '1 if the worker process is currently stopping, otherwise zero'],
  ['Jobs', 'MGP:u32',
    ('Current number of active jobs on the current worker process (frontend connections, master connections, ' +
      'listeners)')],
  ['Unstoppable Jobs', 'MGP:u32',
    'Current number of unstoppable jobs on the current worker process (master connections)'],
  ['Listeners', 'MGP:u32', 'Current number of active listeners on the current worker process'],
  ['ActivePeers', 'MGP:u32', 'Current number of verified active peers connections on the current worker process'],
  ['ConnectedPeers', 'MGP:u32',
    'Current number of peers having passed the connection step on the current worker process'],
  ['DroppedLogs', 'MGP:u32', 'Total number of dropped logs for current worker process since started'],
  ['BusyPolling', 'MGP:u32',
    '1 if busy-polling is currently in use on the worker process, otherwise zero (config.busy-polling)'],
  ['FailedResolutions', 'MGP:u32', 'Total number of failed DNS resolutions in current worker process since started'],
  ['TotalBytesOut', 'MGP:u64', 'Total number of bytes emitted by current worker process since started'],
  ['TotalSplicdedBytesOut', 'MGP:u64',
    'Total number of bytes emitted by current worker process through a kernel pipe since started'],
  ['BytesOutRate', 'MRP:u64', 'Number of bytes emitted by current worker process over the last second'],
  ['DebugCommandsIssued', 'MGP:u32', 'Number of debug commands issued on this process (anything > 0 is unsafe)'],
  ['CumRecvLogs', 'MCP:u32',
    'Total number of log messages received by log-forwarding listeners on this worker process since started'],
  ['Build info', 'POS:str', 'Build info'],
  ['Memmax_bytes', 'CLP:u32', 'Worker process\'s hard limit on memory usage in byes (-m on command line)'],
  ['PoolAlloc_bytes', 'MGP:u64', 'Amount of memory allocated in pools (in bytes)'],
  ['PoolUsed_bytes', 'MGP:u64', 'Amount of pool memory currently used (in bytes)'],
  ['Start_time_sec', 'MDP:u32', 'Start time in seconds'],
  ['Tainted', 'SGP:str', 'Experimental features used'],
]

/** `show info` fields in HAProxy 2.6.12's order (their position is the typed/json `pos`). */
export const INFO_FIELDS: readonly InfoSpec[] = INFO_SPECS.map(([name, tags, desc]) => ({ name, tags, desc }))

const ORIGINS: Record<string, string> = { M: 'Metric', S: 'Status', K: 'Key', C: 'Config', P: 'Product' }
const NATURES: Record<string, string> = {
  G: 'Gauge', L: 'Limit', m: 'Min', M: 'Max', R: 'Rate', C: 'Counter', D: 'Duration', A: 'Age', T: 'Time', N: 'Name',
    O: 'Output', a: 'Avg'
}
const SCOPES: Record<string, string> = { P: 'Process', S: 'Service', s: 'System', C: 'Cluster' }

/** Splits 'MGP:u32' into its three tag letters and its type. */
export function splitTags (tags: string): { readonly letters: string, readonly type: FieldType } {
  const [letters = '???', type = 'u32'] = tags.split(':')
  return { letters, type: type as FieldType }
}

/** The JSON form of the tag letters: {"origin":"Metric","nature":"Gauge","scope":"Process"}. */
export function jsonTags (letters: string): string {
  const o = ORIGINS[letters[0] ?? ''] ?? 'Unknown'
  const n = NATURES[letters[1] ?? ''] ?? 'Unknown'
  const s = SCOPES[letters[2] ?? ''] ?? 'Unknown'
  return `"tags":{"origin":"${o}","nature":"${n}","scope":"${s}"}`
}
