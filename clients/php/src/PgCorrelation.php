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

    /** Correlation is on for this request: watched, and the setting asks for it. */
    public static function wants(string $key): bool
    {
        return Agent::$active && !Agent::$ignored && !empty(Agent::config()[$key]);
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
            $t = Agent::trace(); // the incoming traceparent's trace id, else one from the correlation id
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
}
