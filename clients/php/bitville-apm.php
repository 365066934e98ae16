<?php
/**
 * Bitville APM PHP client. Put this at the top of the front controller:
 *
 *     require_once '/path/to/clients/php/bitville-apm.php';
 *
 * Times the request from REQUEST_TIME_FLOAT; at shutdown, if it took at least
 * profiling_threshold_ms, it builds a profile (DESIGN section 9) and sends it to the daemon's Unix
 * socket within listener_timeout_ms, else writes it to the daemon's inbox folder, else drops it.
 * It never throws, never prints, and never changes headers or the exit code.
 *
 * This file is the part every request pays for, so it reads only the settings the start
 * decision needs, registers the shutdown hook and starts the profiler. The other settings are
 * read when first needed, and building and sending the profile live in src/, loaded only for the
 * requests that are sent. Settings and guarantees: clients/php/README.md.
 * PHP 7.4 to 8.4, no extension required.
 */

namespace Bitville\Apm {

    final class Agent
    {
        const VERSION = '0.1.0';

        /** Keys and defaults of DESIGN section 10; the type of each default is the type of the key. */
        const DEFAULTS = [
            'profiling_enabled' => true,
            'profiling_threshold_ms' => 500.0,
            'project_name' => 'default',
            'daemon_socket_path' => '/var/run/bitville-apm/daemon.sock',
            'inbox_path' => '/var/lib/bitville-apm/inbox',
            'listener_timeout_ms' => 50.0,
            'sql_capture_enabled' => true,
            'sql_stack_trace_limit' => 5,
            'request_metadata_enabled' => true,
            'profiler' => 'auto',
            'sample_rate' => 1.0,
            'profiler_sample_rate' => 0.1,
            'pg_application_name' => true,
            'pg_sql_comment' => true,
        ];

        /** BITVILLE_APM_<KEY> => key, spelled out: every request looks these up. */
        const KEYS = [
            'BITVILLE_APM_PROFILING_ENABLED' => 'profiling_enabled',
            'BITVILLE_APM_PROFILING_THRESHOLD_MS' => 'profiling_threshold_ms',
            'BITVILLE_APM_PROJECT_NAME' => 'project_name',
            'BITVILLE_APM_DAEMON_SOCKET_PATH' => 'daemon_socket_path',
            'BITVILLE_APM_INBOX_PATH' => 'inbox_path',
            'BITVILLE_APM_LISTENER_TIMEOUT_MS' => 'listener_timeout_ms',
            'BITVILLE_APM_SQL_CAPTURE_ENABLED' => 'sql_capture_enabled',
            'BITVILLE_APM_SQL_STACK_TRACE_LIMIT' => 'sql_stack_trace_limit',
            'BITVILLE_APM_REQUEST_METADATA_ENABLED' => 'request_metadata_enabled',
            'BITVILLE_APM_PROFILER' => 'profiler',
            'BITVILLE_APM_SAMPLE_RATE' => 'sample_rate',
            'BITVILLE_APM_PROFILER_SAMPLE_RATE' => 'profiler_sample_rate',
            'BITVILLE_APM_PG_APPLICATION_NAME' => 'pg_application_name',
            'BITVILLE_APM_PG_SQL_COMMENT' => 'pg_sql_comment',
        ];

        const DEFAULT_CONFIG_FILE = '/etc/bitville-apm/profiling.ini';

        /** Values of the `profiler` key. */
        const PROFILERS = ['auto' => true, 'tideways' => true, 'xhprof' => true, 'excimer' => true, 'none' => true];

        /** What people write for a boolean (FPM turns an unquoted true/yes/on into "1"). */
        const BOOLEANS = [
            '1' => true, 'true' => true, 'on' => true, 'yes' => true, 'TRUE' => true, 'True' => true, 'On' => true, 'Yes' => true,
            '0' => false, 'false' => false, 'off' => false, 'no' => false, 'none' => false, '' => false,
            'FALSE' => false, 'False' => false, 'Off' => false, 'No' => false,
        ];

        /** Queries kept per request with their text and stack; later ones are only counted. */
        const MAX_QUERIES = 500;

        /** @var array<string, mixed>|null every effective setting, read on first use (config()) */
        private static $config = null;
        /** @var array<string, mixed> $_SERVER or environment(): where the settings come from */
        private static $server = [];
        /** @var array<string, mixed>|null the INI file's settings, read on first need */
        private static $ini = null;
        /** @var bool this request is being watched (enabled and sampled) */
        public static $active = false;
        /** @var bool the request asked not to be reported (bitville_apm_ignore()) */
        public static $ignored = false;
        /** @var float unix seconds */
        public static $startTime = 0.0;
        /** @var string set on first use (id()), so requests that are never sent skip it */
        public static $correlationId = '';
        /** @var array<string, string>|null W3C trace context, set on first use (trace()) */
        public static $trace = null;
        /** @var list<array<string, mixed>> */
        public static $queries = [];
        /** @var int every query seen, kept or not */
        public static $sqlCount = 0;
        /** @var float */
        public static $sqlMs = 0.0;
        /** @var array<string, mixed> */
        public static $custom = [];
        /** @var string 'tideways', 'xhprof', 'excimer' or 'none': what is running */
        public static $profiler = 'none';
        /** @var object|null the ExcimerProfiler */
        public static $excimer = null;
        /** @var string outcome of the last send, for tests and debugging: socket, socket_dropped, socket_rejected (Transport::toSocket), inbox, dropped */
        public static $lastOutcome = '';

        public static function boot(): void
        {
            try {
                self::$startTime = isset($_SERVER['REQUEST_TIME_FLOAT']) ? (float) $_SERVER['REQUEST_TIME_FLOAT'] : \microtime(true);
                $s = self::$server = PHP_SAPI === 'fpm-fcgi' || PHP_SAPI === 'cgi-fcgi' || PHP_SAPI === 'cli' ? $_SERVER : self::environment();
                \spl_autoload_register([self::class, 'autoload']);
                // Only the settings of the start decision, each as config() would read it: defined()
                // with a literal name and `??` are opcodes, where a function call would also run the
                // hooks of every profiler extension loaded (docs/benchmarks.md).
                $raw = \defined('BITVILLE_APM_PROFILING_ENABLED') ? \constant('BITVILLE_APM_PROFILING_ENABLED') : ($s['BITVILLE_APM_PROFILING_ENABLED'] ?? null);
                if (!self::pick($raw, 'profiling_enabled')) {
                    return; // a disabled request costs nothing more: no hook, no profiler
                }
                $raw = \defined('BITVILLE_APM_SAMPLE_RATE') ? \constant('BITVILLE_APM_SAMPLE_RATE') : ($s['BITVILLE_APM_SAMPLE_RATE'] ?? null);
                $rate = self::pick($raw, 'sample_rate');
                if ($rate < 1.0 && !self::sampled($rate)) {
                    return; // an unsampled request likewise
                }
                self::$active = true;
                \register_shutdown_function([self::class, 'onShutdown']);
                // Starting and stopping any profiler costs 5-20 µs, several percent of a fast page
                // (docs/benchmarks.md), so only a sample of the requests pays for it.
                $raw = \defined('BITVILLE_APM_PROFILER') ? \constant('BITVILLE_APM_PROFILER') : ($s['BITVILLE_APM_PROFILER'] ?? null);
                $profiler = self::pick($raw, 'profiler');
                if ($profiler !== 'none') {
                    $raw = \defined('BITVILLE_APM_PROFILER_SAMPLE_RATE') ? \constant('BITVILLE_APM_PROFILER_SAMPLE_RATE') : ($s['BITVILLE_APM_PROFILER_SAMPLE_RATE'] ?? null);
                    if (self::sampled(self::pick($raw, 'profiler_sample_rate'))) {
                        self::startProfiler($profiler);
                    }
                }
            } catch (\Throwable $e) {
                self::$active = false; // the app must run as if we were not here
            }
        }

        /**
         * Every effective setting: constant BITVILLE_APM_<KEY> > environment BITVILLE_APM_<KEY> >
         * INI file > default. A value that does not parse as the key's type falls back to the
         * default. Read once per request, on first use (sending, SQL capture).
         *
         * @return array<string, mixed>
         */
        public static function config(): array
        {
            if (self::$config !== null) {
                return self::$config;
            }
            $config = [];
            foreach (self::KEYS as $name => $key) {
                $config[$key] = self::pick(\defined($name) ? \constant($name) : (self::$server[$name] ?? null), $key);
            }
            return self::$config = $config;
        }

        /**
         * One setting from its raw constant or environment value (null: not set there, so the INI
         * file's, else the default), of the key's type and within its range.
         *
         * @param mixed $raw
         * @return mixed
         */
        private static function pick($raw, string $key)
        {
            if ($raw === null) {
                $ini = self::$ini ?? (self::$ini = self::readIni(self::$server));
                if (!isset($ini[$key])) {
                    return self::DEFAULTS[$key]; // the defaults are valid as they are
                }
                $raw = $ini[$key];
            }
            $v = self::coerce($raw, self::DEFAULTS[$key]);
            // Comparisons, not min()/max(): those are function calls.
            switch ($key) {
                case 'profiling_threshold_ms':
                    return $v < 0.0 ? 0.0 : $v;
                case 'listener_timeout_ms':
                    return $v < 1.0 ? 1.0 : ($v > 10000.0 ? 10000.0 : $v);
                case 'sql_stack_trace_limit':
                    return $v < 0 ? 0 : ($v > 50 ? 50 : $v);
                case 'sample_rate':
                case 'profiler_sample_rate':
                    return $v < 0.0 ? 0.0 : ($v > 1.0 ? 1.0 : $v);
                case 'profiler':
                    if (isset(self::PROFILERS[$v])) {
                        return $v;
                    }
                    $p = \strtolower($v);
                    return isset(self::PROFILERS[$p]) ? $p : 'auto';
                default:
                    return $v;
            }
        }

        /**
         * Our variables of the process environment, for the SAPIs that do not import all of it into
         * $_SERVER (php -S; Apache mod_php keeps the process environment apart from SetEnv).
         * FPM (env[] lines and fastcgi_param), CGI and the CLI have it in $_SERVER, where reading
         * is a hash lookup instead of a function call that scans the environment.
         *
         * @return array<string, string>
         */
        private static function environment(): array
        {
            $env = [];
            foreach (self::KEYS as $name => $key) {
                $v = \getenv($name);
                if ($v !== false) {
                    $env[$name] = $v;
                }
            }
            $v = \getenv('BITVILLE_APM_CONFIG');
            if ($v !== false) {
                $env['BITVILLE_APM_CONFIG'] = $v;
            }
            return $env;
        }

        /**
         * @param array<string, mixed> $server $_SERVER or environment()
         * @return array<string, mixed> keys in lower case; [sections] are flattened
         */
        private static function readIni(array $server): array
        {
            if (\defined('BITVILLE_APM_CONFIG')) {
                $path = (string) \constant('BITVILLE_APM_CONFIG');
            } else {
                $path = isset($server['BITVILLE_APM_CONFIG']) ? self::unquote((string) $server['BITVILLE_APM_CONFIG']) : self::DEFAULT_CONFIG_FILE;
            }
            // "none" (or empty from a constant) skips the file and its stat(): FPM pools that pass
            // every setting through env[] lose nothing.
            if ($path === '' || $path === 'none' || !@\is_file($path)) {
                return [];
            }
            $parsed = @parse_ini_file($path, true, INI_SCANNER_TYPED);
            if (!is_array($parsed)) {
                return [];
            }
            $flat = [];
            foreach ($parsed as $k => $v) {
                if (is_array($v)) {
                    foreach ($v as $k2 => $v2) {
                        if (!is_array($v2)) {
                            $flat[strtolower((string) $k2)] = $v2;
                        }
                    }
                } else {
                    $flat[strtolower((string) $k)] = $v;
                }
            }
            return $flat;
        }

        /**
         * @param mixed $raw
         * @param mixed $default
         * @return mixed
         */
        private static function coerce($raw, $default)
        {
            if (\is_string($raw)) {
                $raw = self::unquote($raw);
            }
            if (\is_bool($default)) {
                if (\is_bool($raw)) {
                    return $raw;
                }
                if (\is_string($raw) && isset(self::BOOLEANS[$raw])) {
                    return self::BOOLEANS[$raw]; // the usual spellings without a function call
                }
                $b = \filter_var($raw, FILTER_VALIDATE_BOOLEAN, FILTER_NULL_ON_FAILURE);
                return $b === null ? $default : $b;
            }
            if (\is_int($default)) {
                return \is_int($raw) || \is_numeric($raw) ? (int) $raw : $default;
            }
            if (\is_float($default)) {
                return \is_float($raw) || \is_int($raw) || \is_numeric($raw) ? (float) $raw : $default;
            }
            return \is_scalar($raw) ? (string) $raw : $default;
        }

        /**
         * `"false"` and `'off'` as written in an FPM pool, a systemd unit or a .env file arrive
         * with their quotes when the tool does not strip them; the value is what is inside.
         * Surrounding white space goes too. Values that need neither cost no function call.
         */
        private static function unquote(string $raw): string
        {
            $n = \strlen($raw);
            if ($n === 0) {
                return $raw;
            }
            $first = $raw[0];
            $last = $raw[$n - 1];
            if ($first <= ' ' || $last <= ' ') {
                $raw = \trim($raw);
                $n = \strlen($raw);
                if ($n === 0) {
                    return $raw;
                }
                $first = $raw[0];
                $last = $raw[$n - 1];
            }
            if ($n >= 2 && ($first === '"' || $first === "'") && $last === $first) {
                return \trim(\substr($raw, 1, -1));
            }
            return $raw;
        }

        private static function sampled(float $rate): bool
        {
            if ($rate >= 1.0) {
                return true;
            }
            if ($rate <= 0.0) {
                return false;
            }
            return \mt_rand(0, 999999) < $rate * 1000000.0; // one call (mt_getrandmax() would be a second)
        }

        public static function id(): string
        {
            if (self::$correlationId === '') {
                self::$correlationId = self::correlationIdFromRequest();
            }
            return self::$correlationId;
        }

        /** A UUID given by an upstream proxy in X-Correlation-Id / X-Request-Id, else a new v4 UUID. */
        private static function correlationIdFromRequest(): string
        {
            foreach (['HTTP_X_CORRELATION_ID', 'HTTP_X_REQUEST_ID'] as $h) {
                if (isset($_SERVER[$h]) && is_string($_SERVER[$h])
                    && preg_match('/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i', $_SERVER[$h])) {
                    return strtolower($_SERVER[$h]);
                }
            }
            try {
                $b = random_bytes(16);
            } catch (\Throwable $e) {
                $b = '';
                for ($i = 0; $i < 16; $i++) {
                    $b .= chr(mt_rand(0, 255));
                }
            }
            $b[6] = chr((ord($b[6]) & 0x0f) | 0x40);
            $b[8] = chr((ord($b[8]) & 0x3f) | 0x80);
            $h = bin2hex($b);
            return substr($h, 0, 8) . '-' . substr($h, 8, 4) . '-' . substr($h, 12, 4) . '-' . substr($h, 16, 4) . '-' . substr($h, 20);
        }

        /**
         * W3C trace context of this request (https://www.w3.org/TR/trace-context/): the trace of a
         * valid incoming `traceparent` header, else a new trace whose id is the correlation id's hex;
         * `span_id` is this request's own span (the listener's OTLP exporter uses both, so SQL comments
         * and outgoing calls that carry traceparent() point at the span the profile becomes).
         *
         * @return array<string, string> trace_id, span_id, flags; traceparent and tracestate when one came in
         */
        public static function trace(): array
        {
            if (self::$trace !== null) {
                return self::$trace;
            }
            $in = isset($_SERVER['HTTP_TRACEPARENT']) && is_string($_SERVER['HTTP_TRACEPARENT']) ? strtolower(trim($_SERVER['HTTP_TRACEPARENT'])) : '';
            try {
                $span = bin2hex(random_bytes(8));
            } catch (\Throwable $e) {
                $span = sprintf('%08x%08x', mt_rand(1, 0x7fffffff), mt_rand(0, 0x7fffffff));
            }
            if (preg_match('/^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/', $in, $m)
                && $m[1] !== 'ff' && ($m[1] !== '00' || !isset($m[5])) && $m[2] !== str_repeat('0', 32) && $m[3] !== str_repeat('0', 16)) {
                self::$trace = ['trace_id' => $m[2], 'span_id' => $span, 'flags' => $m[4], 'traceparent' => $m[0]];
                if (isset($_SERVER['HTTP_TRACESTATE']) && is_string($_SERVER['HTTP_TRACESTATE']) && $_SERVER['HTTP_TRACESTATE'] !== '') {
                    self::$trace['tracestate'] = substr($_SERVER['HTTP_TRACESTATE'], 0, 512);
                }
            } else {
                self::$trace = ['trace_id' => str_replace('-', '', self::id()), 'span_id' => $span, 'flags' => '01'];
            }
            return self::$trace;
        }

        private static function startProfiler(string $wanted): void
        {
            if ($wanted === 'auto') {
                // Excimer first: a sampler's cost does not grow with the number of function calls,
                // while tideways/xhprof hook every call (a framework page with 50,000 calls pays ms).
                if (class_exists('ExcimerProfiler', false)) {
                    $wanted = 'excimer';
                } elseif (function_exists('tideways_xhprof_enable') || function_exists('tideways_enable')) {
                    $wanted = 'tideways';
                } elseif (function_exists('xhprof_enable')) {
                    $wanted = 'xhprof';
                } else {
                    return;
                }
            }
            if ($wanted === 'tideways' && function_exists('tideways_xhprof_enable')) {
                tideways_xhprof_enable(0); // wall time only: the cheapest mode
                self::$profiler = 'tideways';
            } elseif ($wanted === 'tideways' && function_exists('tideways_enable')) {
                tideways_enable(0);
                self::$profiler = 'tideways_legacy';
            } elseif ($wanted === 'xhprof' && function_exists('xhprof_enable')) {
                xhprof_enable(0);
                self::$profiler = 'xhprof';
            } elseif ($wanted === 'excimer' && class_exists('ExcimerProfiler', false)) {
                $p = new \ExcimerProfiler();
                $p->setPeriod(0.002); // 2 ms: about 250 samples for a 500 ms request, ~1 % overhead
                $p->setEventType(EXCIMER_REAL);
                $p->start();
                self::$excimer = $p;
                self::$profiler = 'excimer';
            }
        }

        /**
         * First shutdown hook: registers the real one, which then runs after every shutdown
         * function the application registered later (error pages, status changes, session writes).
         */
        public static function onShutdown(): void
        {
            // The fast path of every request that is not slow: one clock read and a comparison, and
            // no second hook. A request that only grows slow in shutdown functions registered after
            // this one is therefore not reported (clients/php/README.md).
            if (self::$ignored || (\microtime(true) - self::$startTime) * 1000.0 < self::threshold()) {
                return; // a running profiler is left to the extension's own request shutdown: reading it costs
            }
            \register_shutdown_function([self::class, 'report']);
        }

        /** profiling_threshold_ms, without reading the other settings. */
        private static function threshold(): float
        {
            if (self::$config !== null) {
                return self::$config['profiling_threshold_ms'];
            }
            $raw = \defined('BITVILLE_APM_PROFILING_THRESHOLD_MS') ? \constant('BITVILLE_APM_PROFILING_THRESHOLD_MS') : (self::$server['BITVILLE_APM_PROFILING_THRESHOLD_MS'] ?? null);
            return self::pick($raw, 'profiling_threshold_ms');
        }

        public static function report(): void
        {
            $end = \microtime(true);
            // onShutdown() found the request slow already, and time only grows.
            if (!self::$active || self::$ignored) {
                return;
            }
            $lastError = error_get_last(); // before anything of ours can replace it
            set_error_handler([self::class, 'swallowError']);
            try {
                self::$active = false; // once
                Reporter::send($end, $lastError);
            } catch (\Throwable $e) {
                // never reaches the application or the visitor
            } finally {
                restore_error_handler();
            }
        }

        /** Silences warnings and notices raised inside the client while it reports. */
        public static function swallowError(): bool
        {
            return true;
        }

        /** @param string|null $driver the PDO driver that ran it (PDO::ATTR_DRIVER_NAME), when known */
        public static function recordSql(string $sql, float $ms, int $skipFrames = 1, ?string $driver = null): void
        {
            if (!self::$active) {
                return;
            }
            $config = self::config();
            if (!$config['sql_capture_enabled']) {
                return;
            }
            self::$sqlCount++;
            self::$sqlMs += $ms;
            if (count(self::$queries) >= self::MAX_QUERIES) {
                return;
            }
            // start_ms: when the statement began, in ms since the request started (it ended just now).
            $q = [
                'query' => strlen($sql) > 8000 ? substr($sql, 0, 8000) . '…' : $sql,
                'duration_ms' => round($ms, 3),
                'start_ms' => round(max(0.0, (microtime(true) - self::$startTime) * 1000.0 - $ms), 3),
            ];
            if ($driver !== null) {
                $q['driver'] = $driver;
            }
            $limit = $config['sql_stack_trace_limit'];
            if ($limit > 0) {
                $q['stack_trace'] = self::stack($limit, $skipFrames);
            }
            self::$queries[] = $q;
        }

        /** @return list<array<string, mixed>> the caller's frames, outside this client */
        private static function stack(int $limit, int $skipFrames): array
        {
            // Frames inside this client (the wrapper, recordSql itself) are skipped by path below.
            $frames = debug_backtrace(DEBUG_BACKTRACE_IGNORE_ARGS, $limit + $skipFrames + 4);
            unset($frames[0]);
            $out = [];
            $dir = __DIR__;
            foreach ($frames as $i => $f) {
                if (isset($f['file']) && strncmp($f['file'], $dir, strlen($dir)) === 0) {
                    continue; // our own wrapper frames say nothing about the application
                }
                $frame = ['file' => isset($f['file']) ? $f['file'] : '', 'line' => isset($f['line']) ? $f['line'] : 0, 'function' => $f['function']];
                if (isset($f['class'])) {
                    $frame['class'] = $f['class'];
                }
                $out[] = $frame;
                if (count($out) >= $limit) {
                    break;
                }
            }
            return $out;
        }

        public static function autoload(string $class): void
        {
            if (strncmp($class, 'Bitville\\Apm\\', 13) !== 0) {
                return;
            }
            $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, 13)) . '.php';
            if (is_file($file)) {
                require_once $file;
            }
        }
    }

    Agent::boot();
}

namespace {

    use Bitville\Apm\Agent;

    if (!function_exists('bitville_apm_sql')) {
        /**
         * Records one SQL statement run outside the PDO wrapper.
         * Does nothing when sql_capture_enabled is false or the request is not watched.
         */
        function bitville_apm_sql($sql, $ms)
        {
            try {
                Agent::recordSql((string) $sql, (float) $ms, 1);
            } catch (\Throwable $e) {
                // never throws
            }
        }

        /**
         * Adds application context to the profile's `custom` object:
         * bitville_apm_context('user_id', 42) or bitville_apm_context(['route' => 'checkout']).
         */
        function bitville_apm_context($key, $value = null)
        {
            if (is_array($key)) {
                foreach ($key as $k => $v) {
                    Agent::$custom[(string) $k] = $v;
                }
            } elseif (is_scalar($key)) {
                Agent::$custom[(string) $key] = $value;
            }
        }

        /** The correlation id (a UUID) under which this request's profile is sent. */
        function bitville_apm_correlation_id()
        {
            return Agent::id();
        }

        /**
         * `00-<trace-id>-<span-id>-<flags>` naming this request's span: send it as the `traceparent`
         * header of outgoing HTTP calls (or in SQL comments) so they join the request's trace.
         */
        function bitville_apm_traceparent()
        {
            try {
                $t = Agent::trace();
                return '00-' . $t['trace_id'] . '-' . $t['span_id'] . '-' . $t['flags'];
            } catch (\Throwable $e) {
                return '';
            }
        }

        /** The SQL comment `correlation:<id>`, to prepend to SQL so database logs link back to the request. */
        function bitville_apm_sql_comment()
        {
            return '/* correlation:' . Agent::id() . ' */';
        }

        /** The SQL with the correlation comment in front. */
        function bitville_apm_tag_sql($sql)
        {
            return '/* correlation:' . Agent::id() . ' */ ' . $sql;
        }

        /** PostgreSQL application_name for this request: `bitville-<uuid>`. */
        function bitville_apm_pg_application_name()
        {
            return 'bitville-' . Agent::id();
        }

        /** A pgsql: DSN with application_name=bitville-<uuid> added (libpq keyword). */
        function bitville_apm_pg_dsn($dsn)
        {
            return rtrim((string) $dsn, ';') . ';application_name=bitville-' . Agent::id();
        }

        /** Sets application_name on an open PostgreSQL connection; false if that failed. */
        function bitville_apm_pg_set_application_name($pdo)
        {
            try {
                return $pdo->exec("SET application_name = 'bitville-" . Agent::id() . "'") !== false;
            } catch (\Throwable $e) {
                return false;
            }
        }

        /** This request is never reported, however slow (health checks, long polls, downloads). */
        function bitville_apm_ignore()
        {
            Agent::$ignored = true;
        }
    }
}
