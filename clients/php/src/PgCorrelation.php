<?php

namespace Bitville\Apm;

/**
 * Request <-> PostgreSQL correlation for the PDO wrapper (DESIGN section 12): the session's
 * application_name becomes `bitville-<correlation_id>` and each statement gets a leading
 * sqlcommenter comment `/*bitville_id='<id>',traceparent='00-<trace>-<span>-01'*\/`.
 * The Postgres agent reads both; the listener strips the comment from SQL fingerprints.
 */
final class PgCorrelation
{
    /** @var string|null the comment for this request, built once */
    private static $comment = null;

    /** @var array<string, string>|null trace_id and span_id when Agent has no trace() of its own */
    private static $trace = null;

    /** Correlation is on for this request: watched, and the setting asks for it. */
    public static function wants(string $key): bool
    {
        return Agent::$active && !Agent::$ignored && !empty(Agent::$config[$key]);
    }

    public static function applicationName(): string
    {
        return 'bitville-' . Agent::id();
    }

    /** `/*bitville_id='…',traceparent='00-…-…-01'*\/ ` (trailing space included), or '' when off. */
    public static function comment(): string
    {
        if (!self::wants('pg_sql_comment')) {
            return '';
        }
        if (self::$comment === null) {
            $t = self::trace();
            // Values are URL-encoded as sqlcommenter specifies; ours are [0-9a-f-] and need none.
            self::$comment = "/*bitville_id='" . rawurlencode(Agent::id()) . "',traceparent='00-" . $t['trace_id'] . '-' . $t['span_id'] . "-01'*/ ";
        }
        return self::$comment;
    }

    /** The SQL as the application wrote it: the leading comment added by comment() removed. */
    public static function untagged(string $sql): string
    {
        if (strncmp($sql, "/*bitville_id='", 15) !== 0) {
            return $sql;
        }
        $end = strpos($sql, '*/ ');
        return $end === false ? $sql : substr($sql, $end + 3);
    }

    /**
     * The request's trace: Agent::trace() where the client has it (the incoming W3C traceparent's
     * trace id, else one derived from the correlation id), the same rule here otherwise.
     *
     * @return array<string, string>
     */
    private static function trace(): array
    {
        if (method_exists(Agent::class, 'trace')) {
            /** @var array<string, string> $t */
            $t = call_user_func([Agent::class, 'trace']);
            return $t;
        }
        if (self::$trace === null) {
            $in = isset($_SERVER['HTTP_TRACEPARENT']) && is_string($_SERVER['HTTP_TRACEPARENT']) ? strtolower(trim($_SERVER['HTTP_TRACEPARENT'])) : '';
            try {
                $span = bin2hex(random_bytes(8));
            } catch (\Throwable $e) {
                $span = sprintf('%08x%08x', mt_rand(1, 0x7fffffff), mt_rand(0, 0x7fffffff));
            }
            if (preg_match('/^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/', $in, $m)
                && $m[1] !== 'ff' && $m[2] !== str_repeat('0', 32) && $m[3] !== str_repeat('0', 16)) {
                self::$trace = ['trace_id' => $m[2], 'span_id' => $span];
            } else {
                self::$trace = ['trace_id' => str_replace('-', '', Agent::id()), 'span_id' => $span];
            }
        }
        return self::$trace;
    }
}
