<?php

namespace Bitville\Apm;

/**
 * Socket first, inbox file second, nothing third (DESIGN section 2).
 *
 * The socket attempt, connect, write and acknowledgement together, never takes longer than
 * listener_timeout_ms: the socket is non-blocking and every wait is a stream_select bounded by
 * what is left of the budget, so a daemon that accepts and never reads costs the budget and no
 * more. After the profile the client asks for an acknowledgement (`["bitville_ack",1]`, see
 * src/shared/protocol/control-lines.ts) and counts the socket as done only once the daemon
 * answers that the profile is safe (or refused, or dropped by its policy: counted there). No
 * answer in time: the whole profile goes to the inbox too. It may then arrive twice; the
 * listener's idempotency makes that harmless. A daemon too old to know the request rejects the
 * line as not an object and never answers: every profile then also goes through the inbox.
 */
final class Transport
{
    const ACK_REQUEST = "[\"bitville_ack\",1]\n";
    const ACK_REPLY_PREFIX = '{"ack":1,';

    /** @param array<string, mixed> $config */
    public static function send(string $json, string $id, array $config): string
    {
        $deadline = microtime(true) + ((float) $config['listener_timeout_ms']) / 1000.0;
        $answer = self::toSocket((string) $config['daemon_socket_path'], $json . "\n" . self::ACK_REQUEST, $deadline);
        if ($answer !== null) {
            return $answer;
        }
        if (self::toInbox((string) $config['inbox_path'], $json, $id)) {
            return 'inbox';
        }
        return 'dropped';
    }

    /**
     * The daemon's answer: 'socket' (safe), 'socket_dropped' (dropped by the daemon's spool policy,
     * counted there) or 'socket_rejected' (refused as invalid); null when it did not answer in time.
     */
    public static function toSocket(string $path, string $data, float $deadline): ?string
    {
        if ($path === '' || !function_exists('stream_socket_client')) {
            return null;
        }
        $left = $deadline - microtime(true);
        if ($left <= 0) {
            return null;
        }
        $errno = 0;
        $errstr = '';
        $s = @stream_socket_client('unix://' . $path, $errno, $errstr, $left, STREAM_CLIENT_CONNECT | STREAM_CLIENT_ASYNC_CONNECT);
        if (!is_resource($s)) {
            return null; // no socket file, refused, or not permitted
        }
        try {
            stream_set_blocking($s, false);
            $len = strlen($data);
            $off = 0;
            $chunk = 65536;
            while ($off < $len) {
                $left = $deadline - microtime(true);
                if ($left <= 0) {
                    return null;
                }
                $r = null;
                $w = [$s];
                $e = null;
                $ready = @stream_select($r, $w, $e, 0, max(1, (int) ($left * 1000000)));
                if ($ready === false) {
                    return null;
                }
                if ($ready === 0) {
                    continue; // the loop re-checks the deadline
                }
                $wrote = @fwrite($s, substr($data, $off, $chunk));
                if ($wrote === false) {
                    return null;
                }
                if ($wrote === 0 && feof($s)) {
                    return null; // the peer went away
                }
                $off += $wrote;
            }
            return self::awaitAck($s, $deadline);
        } finally {
            @fclose($s);
        }
    }

    /** @param resource $s */
    private static function awaitAck($s, float $deadline): ?string
    {
        $reply = '';
        while (true) {
            $left = $deadline - microtime(true);
            if ($left <= 0) {
                return null;
            }
            $r = [$s];
            $w = null;
            $e = null;
            $ready = @stream_select($r, $w, $e, 0, max(1, (int) ($left * 1000000)));
            if ($ready === false) {
                return null;
            }
            if ($ready === 0) {
                continue;
            }
            $chunk = @fread($s, 512);
            if ($chunk === false || $chunk === '') {
                if (feof($s)) {
                    return null; // closed without an answer: the daemon could not confirm it
                }
                continue;
            }
            $reply .= $chunk;
            if (strpos($reply, "\n") !== false) {
                if (strncmp($reply, self::ACK_REPLY_PREFIX, strlen(self::ACK_REPLY_PREFIX)) !== 0) {
                    return null;
                }
                if (strpos($reply, '"accepted":1,') !== false) {
                    return 'socket';
                }
                return strpos($reply, '"dropped":0') === false ? 'socket_dropped' : 'socket_rejected';
            }
            if (strlen($reply) > 512) {
                return null;
            }
        }
    }

    /** One file per profile, written under a name the daemon ignores, then renamed into view. */
    public static function toInbox(string $dir, string $json, string $id): bool
    {
        if ($dir === '') {
            return false;
        }
        if (!@is_dir($dir) && !@mkdir($dir, 0777, true) && !@is_dir($dir)) {
            return false;
        }
        $t = microtime(true);
        $name = sprintf('profile_%d%06d_%s.json', (int) $t, (int) (($t - floor($t)) * 1000000), preg_replace('/[^A-Za-z0-9-]/', '', $id));
        $tmp = $dir . '/.' . $name . '.' . getmypid() . '.tmp'; // not profile_*.json: the sweep skips it
        if (@file_put_contents($tmp, $json) !== strlen($json)) {
            @unlink($tmp);
            return false;
        }
        @chmod($tmp, 0666); // the daemon may run as another user; it deletes the file after ingest
        if (!@rename($tmp, $dir . '/' . $name)) {
            @unlink($tmp);
            return false;
        }
        return true;
    }
}
