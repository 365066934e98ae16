<?php

namespace Bitville\Apm;

/**
 * Removes secrets before a profile leaves the host: header values, query-string, GET/POST and
 * context values whose key names a secret, and SQL literals compared with or inserted into a
 * column that names one. Over-redacting is acceptable; leaking a password is not.
 */
final class Redactor
{
    const MASK = '[REDACTED]';

    /** Key names that hold secrets (headers, parameters, columns). */
    const SECRET_KEY = '/pass(?:word|wd|phrase)?|secret|token|api[-_]?key|apikey|auth(?!or)|cookie|session|credential|private[-_]?key|signature|csrf|xsrf|bearer|otp\b|cvv|cvc|card[-_]?number|iban|salt/i';

    /** Value shapes that are secrets whatever their key: bearer/basic credentials, JWTs, bcrypt hashes. */
    const SECRET_VALUE = '/^(?:bearer|basic|digest|negotiate)\s|^eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.|^\$2[abxy]\$\d\d\$/i';

    const MAX_STRING = 512;
    const MAX_KEYS = 100;
    const MAX_DEPTH = 4;

    public static function isSecretKey(string $key): bool
    {
        return preg_match(self::SECRET_KEY, $key) === 1;
    }

    /**
     * @param array<string, string> $headers
     * @return array<string, string>
     */
    public static function headers(array $headers): array
    {
        $out = [];
        foreach ($headers as $name => $value) {
            $out[$name] = self::isSecretKey((string) $name) || preg_match(self::SECRET_VALUE, $value) === 1 ? self::MASK : self::cut($value);
        }
        return $out;
    }

    /**
     * Arrays of request parameters or context: secret keys masked, long strings cut, depth and
     * width bounded so a huge form cannot make a huge profile.
     *
     * @param mixed $value
     * @return mixed
     */
    public static function values($value, int $depth)
    {
        if (!is_array($value)) {
            if (is_string($value)) {
                return preg_match(self::SECRET_VALUE, $value) === 1 ? self::MASK : self::cut($value);
            }
            return is_scalar($value) || $value === null ? $value : '(' . gettype($value) . ')';
        }
        if ($depth >= self::MAX_DEPTH) {
            return '(array of ' . count($value) . ')';
        }
        $out = [];
        $n = 0;
        foreach ($value as $k => $v) {
            if (++$n > self::MAX_KEYS) {
                $out['…'] = (count($value) - self::MAX_KEYS) . ' more';
                break;
            }
            $out[$k] = is_string($k) && self::isSecretKey($k) ? self::MASK : self::values($v, $depth + 1);
        }
        return $out;
    }

    /** `a=1&token=abc` → `a=1&token=[REDACTED]`; everything else is kept byte for byte. */
    public static function queryString(string $qs): string
    {
        if ($qs === '') {
            return $qs;
        }
        $parts = explode('&', $qs);
        foreach ($parts as $i => $part) {
            $eq = strpos($part, '=');
            $key = urldecode($eq === false ? $part : substr($part, 0, $eq));
            $value = $eq === false ? '' : urldecode(substr($part, $eq + 1));
            if ($eq !== false && (self::isSecretKey($key) || preg_match(self::SECRET_VALUE, $value) === 1)) {
                $parts[$i] = substr($part, 0, $eq) . '=' . self::MASK;
            }
        }
        return implode('&', $parts);
    }

    public static function uri(string $uri): string
    {
        $q = strpos($uri, '?');
        return $q === false ? $uri : substr($uri, 0, $q) . '?' . self::queryString(substr($uri, $q + 1));
    }

    /**
     * `password = 'x'`, `api_key IN ('a')`-style comparisons and assignments, and the values of
     * secret columns in `INSERT INTO t (cols) VALUES (...)`.
     */
    public static function sql(string $sql): string
    {
        $lit = "(?:'(?:[^'\\\\]|\\\\.|'')*'|\"(?:[^\"\\\\]|\\\\.)*\"|-?\\d+(?:\\.\\d+)?)";
        $col = '[A-Za-z0-9_$]*(?:pass(?:word|wd|phrase)?|secret|token|api_?key|apikey|auth(?!or)|credential|private_?key|signature|salt|otp|cvv|card_?number|iban)[A-Za-z0-9_$]*';
        $out = preg_replace(
            '/([`"\[]?' . $col . '[`"\]]?\s*(?:=|<>|!=|\bLIKE\b)\s*)' . $lit . '/i',
            "\$1'" . self::MASK . "'",
            $sql
        );
        if (is_string($out)) {
            $sql = $out;
        }
        if (stripos($sql, 'insert') !== false && stripos($sql, 'values') !== false) {
            $sql = self::insertValues($sql, '/^[`"\[]?' . $col . '[`"\]]?$/i', $lit);
        }
        // JWTs and bcrypt hashes in any literal
        $out = preg_replace("/'(?:eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_.-]+|\\$2[abxy]\\$\\d\\d\\$[^']*)'/", "'" . self::MASK . "'", $sql);
        return is_string($out) ? $out : $sql;
    }

    private static function insertValues(string $sql, string $colPattern, string $lit): string
    {
        if (!preg_match('/^(.*?\binsert\b.*?\(\s*)([^()]*?)(\s*\)\s*values\s*)(.*)$/is', $sql, $m)) {
            return $sql;
        }
        $cols = array_map('trim', explode(',', $m[2]));
        $secret = [];
        foreach ($cols as $i => $c) {
            if (preg_match($colPattern, $c)) {
                $secret[$i] = true;
            }
        }
        if (!$secret) {
            return $sql;
        }
        // Each row: ( item, item, ... ) where an item is a literal or anything without , ( )
        $rows = preg_replace_callback('/\(((?:\s*(?:' . $lit . '|[^,()\'"]+)\s*,?)*)\)/', function ($row) use ($secret, $lit) {
            preg_match_all('/\s*(' . $lit . '|[^,()\'"]+)\s*(,|$)/', $row[1], $items);
            $vals = $items[1];
            foreach ($secret as $i => $_) {
                if (isset($vals[$i])) {
                    $vals[$i] = "'" . self::MASK . "'";
                }
            }
            return '(' . implode(', ', $vals) . ')';
        }, $m[4]);
        return is_string($rows) ? $m[1] . $m[2] . $m[3] . $rows : $sql;
    }

    private static function cut(string $s): string
    {
        return strlen($s) > self::MAX_STRING ? substr($s, 0, self::MAX_STRING) . '…' : $s;
    }
}
