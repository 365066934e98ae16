<?php

namespace Bitville\Apm;

/**
 * Builds the profile of a slow request (DESIGN section 9) and hands it to the transport.
 * Loaded only for requests that are sent; called from Agent::report() inside its guard.
 */
final class Reporter
{
    /** @param array<string, mixed>|null $lastError error_get_last() as the request ended */
    public static function send(float $end, ?array $lastError): void
    {
        $config = Agent::config();
        $profiler = ProfilerData::collect(($end - Agent::$startTime) * 1e6); // first, so our own work is not in it
        // Read what only the live request knows before the connection is handed back.
        $status = function_exists('http_response_code') ? http_response_code() : false;
        $headersSent = headers_sent();
        $contentType = self::responseContentType();
        self::finishRequest();

        $profile = self::build($end, $config, $status, $headersSent, $contentType, $profiler, $lastError);
        $json = json_encode($profile, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PARTIAL_OUTPUT_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE);
        if (!is_string($json)) {
            return;
        }
        Agent::$lastOutcome = Transport::send($json, Agent::id(), $config);
    }

    /** The visitor gets the response now; everything after this is invisible to them. */
    private static function finishRequest(): void
    {
        if (function_exists('fastcgi_finish_request')) {
            if (function_exists('session_status') && session_status() === PHP_SESSION_ACTIVE) {
                session_write_close(); // else the next request of this visitor could read a stale session
            }
            fastcgi_finish_request();
        } elseif (function_exists('litespeed_finish_request')) {
            litespeed_finish_request();
        }
    }

    /**
     * @param int|bool $status
     * @param array<string, mixed> $profiler
     * @param array<string, mixed>|null $lastError
     * @return array<string, mixed>
     */
    public static function build(float $end, array $config, $status, bool $headersSent, ?string $contentType, array $profiler, ?array $lastError): array
    {
        $start = Agent::$startTime;
        $elapsedMs = round(($end - $start) * 1000.0, 3);
        $metadata = (bool) $config['request_metadata_enabled'];

        $profile = [
            'correlation_id' => Agent::id(),
            'project' => (string) $config['project_name'],
            'timestamp' => round($start, 6),
            'elapsed_ms' => $elapsedMs,
            'threshold_ms' => $config['profiling_threshold_ms'],
            'request' => self::request($metadata),
            'response' => [
                'status_code' => is_int($status) ? $status : null,
                'content_type' => $contentType,
                'headers_sent' => $headersSent,
            ],
            'timing' => [
                'start_time' => round($start, 6),
                'end_time' => round($end, 6),
                'duration_ms' => $elapsedMs,
                'request_time_float' => isset($_SERVER['REQUEST_TIME_FLOAT']) ? (float) $_SERVER['REQUEST_TIME_FLOAT'] : null,
            ],
            'memory' => [
                'peak_usage' => memory_get_peak_usage(false),
                'peak_usage_real' => memory_get_peak_usage(true),
                'current_usage' => memory_get_usage(false),
                'limit' => ini_get('memory_limit'),
            ],
            'trace' => Agent::trace(),
            'server' => [
                'hostname' => (string) gethostname(),
                'php_version' => PHP_VERSION,
                'sapi' => PHP_SAPI,
                'pid' => getmypid(),
            ],
        ];
        if ($config['sql_capture_enabled']) {
            $queries = [];
            foreach (Agent::$queries as $q) {
                $q['query'] = Redactor::sql($q['query']);
                $queries[] = $q;
            }
            $profile['sql'] = [
                'queries' => $queries,
                'total_queries' => Agent::$sqlCount,
                'total_duration_ms' => round(Agent::$sqlMs, 3),
                'queries_truncated' => Agent::$sqlCount > count($queries),
            ];
        }
        foreach ($profiler as $k => $v) {
            $profile[$k] = $v;
        }
        if (Agent::$custom) {
            $profile['custom'] = Redactor::values(Agent::$custom, 0);
        }
        $fatal = self::fatalError($lastError);
        if ($fatal !== null) {
            $profile['fatal_error'] = $fatal;
        }
        $profile['_meta'] = [
            'timestamp' => round(microtime(true), 6),
            'php_version' => PHP_VERSION,
            'transmitter_version' => 'bitville-apm-php/' . Agent::VERSION,
            'profiler' => Agent::$profiler,
        ];
        return $profile;
    }

    /** @return array<string, mixed> */
    private static function request(bool $metadata): array
    {
        $cli = PHP_SAPI === 'cli' || PHP_SAPI === 'phpdbg';
        $method = $cli ? 'CLI' : (isset($_SERVER['REQUEST_METHOD']) ? (string) $_SERVER['REQUEST_METHOD'] : 'UNKNOWN');
        $uri = $cli ? (isset($_SERVER['SCRIPT_NAME']) ? (string) $_SERVER['SCRIPT_NAME'] : '') : (isset($_SERVER['REQUEST_URI']) ? (string) $_SERVER['REQUEST_URI'] : '/');
        $uri = Redactor::uri($uri);
        $request = ['method' => $method, 'uri' => $uri];
        if (!$cli) {
            $host = isset($_SERVER['HTTP_HOST']) ? (string) $_SERVER['HTTP_HOST'] : (isset($_SERVER['SERVER_NAME']) ? (string) $_SERVER['SERVER_NAME'] : 'localhost');
            $https = (!empty($_SERVER['HTTPS']) && $_SERVER['HTTPS'] !== 'off')
                || (isset($_SERVER['HTTP_X_FORWARDED_PROTO']) && $_SERVER['HTTP_X_FORWARDED_PROTO'] === 'https');
            $request['url'] = ($https ? 'https' : 'http') . '://' . $host . $uri;
            if (isset($_SERVER['QUERY_STRING']) && $_SERVER['QUERY_STRING'] !== '') {
                $request['query_string'] = Redactor::queryString((string) $_SERVER['QUERY_STRING']);
            }
        }
        $request['timestamp'] = round(Agent::$startTime, 6);
        if (!$metadata) {
            return $request;
        }
        $request['headers'] = Redactor::headers(self::requestHeaders());
        $request['get'] = Redactor::values($_GET, 0);
        $request['post_data'] = Redactor::values($_POST, 0);
        if ($_FILES) {
            $files = [];
            foreach ($_FILES as $field => $f) {
                $files[(string) $field] = ['size' => isset($f['size']) ? $f['size'] : null, 'type' => isset($f['type']) ? $f['type'] : null];
            }
            $request['files'] = $files;
        }
        $server = [];
        foreach (['SERVER_SOFTWARE', 'SERVER_NAME', 'SERVER_ADDR', 'SERVER_PORT', 'REMOTE_ADDR', 'DOCUMENT_ROOT', 'SCRIPT_FILENAME', 'PHP_SELF', 'SERVER_PROTOCOL'] as $k) {
            if (isset($_SERVER[$k])) {
                $server[strtolower($k)] = $_SERVER[$k];
            }
        }
        $request['server'] = $server;
        return $request;
    }

    /** @return array<string, string> */
    private static function requestHeaders(): array
    {
        $headers = [];
        foreach ($_SERVER as $k => $v) {
            if (!is_string($v)) {
                continue;
            }
            if (strncmp($k, 'HTTP_', 5) === 0) {
                $name = substr($k, 5);
            } elseif ($k === 'CONTENT_TYPE' || $k === 'CONTENT_LENGTH') {
                $name = $k;
            } else {
                continue;
            }
            $headers[str_replace(' ', '-', ucwords(strtolower(str_replace('_', ' ', $name))))] = $v;
        }
        return $headers;
    }

    private static function responseContentType(): ?string
    {
        foreach (headers_list() as $h) {
            if (strncasecmp($h, 'Content-Type:', 13) === 0) {
                return trim(substr($h, 13));
            }
        }
        return null;
    }

    /**
     * @param array<string, mixed>|null $e
     * @return array<string, mixed>|null the fatal error that ended the request, if any
     */
    private static function fatalError(?array $e): ?array
    {
        $fatal = E_ERROR | E_PARSE | E_CORE_ERROR | E_COMPILE_ERROR | E_USER_ERROR | E_RECOVERABLE_ERROR;
        if (!is_array($e) || ($e['type'] & $fatal) === 0) {
            return null;
        }
        return ['type' => $e['type'], 'message' => substr((string) $e['message'], 0, 2000), 'file' => $e['file'], 'line' => $e['line']];
    }
}
