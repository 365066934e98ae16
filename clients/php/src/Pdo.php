<?php

namespace Bitville\Apm;

/**
 * Drop-in PDO that records every query, exec and prepared execute with its time and the PDO driver
 * (`driver`: pgsql, mysql, sqlite, ...; the listener's OTLP exporter maps it to `db.system`):
 * replace `new PDO(...)` with `new \Bitville\Apm\Pdo(...)`.
 *
 * Prepared statements are timed through PdoStatement (PDO::ATTR_STATEMENT_CLASS); that attribute
 * cannot be used with persistent connections, so there only query() and exec() are timed.
 * An application that sets its own ATTR_STATEMENT_CLASS replaces ours the same way.
 *
 * On PostgreSQL (driver pgsql) the connection is tagged for the Postgres agent (PgCorrelation):
 * application_name = bitville-<correlation_id> for this request, and a sqlcommenter comment in
 * front of each statement. A new connection gets the name in its DSN (no extra round trip); a
 * persistent one gets a SET, and its previous name back when this object goes away or the request
 * ends, so the next request on that connection is never mislabelled.
 */
class Pdo extends \PDO
{
    /** @var string comment prefix for this connection's statements ('' = none) */
    private $bitvilleComment = '';

    /** @var string|null application_name to restore on a persistent connection */
    private $bitvilleRestoreName = null;

    /** @var string|null PDO::ATTR_DRIVER_NAME (pgsql, mysql, sqlite, ...), recorded with each query as `driver` */
    private $bitvilleDriver = null;

    /**
     * @param string $dsn
     * @param string|null $username
     * @param string|null $password
     * @param array<int, mixed>|null $options
     */
    public function __construct($dsn, $username = null, $password = null, $options = null)
    {
        $persistent = !empty($options[\PDO::ATTR_PERSISTENT]);
        $pg = is_string($dsn) && strncmp($dsn, 'pgsql:', 6) === 0;
        $tagName = $pg && PgCorrelation::wants('pg_application_name');
        if ($tagName && !$persistent) {
            // libpq takes the last value of a repeated keyword, so this wins over one in the DSN.
            $dsn = rtrim($dsn, '; ') . ';application_name=' . PgCorrelation::applicationName();
        }
        parent::__construct($dsn, $username, $password, $options === null ? [] : $options);
        try {
            $this->bitvilleDriver = (string) $this->getAttribute(\PDO::ATTR_DRIVER_NAME);
        } catch (\Throwable $e) {
            $this->bitvilleDriver = null; // the driver name is a nicety for the exporters; never fail the app for it
        }
        if (!$persistent) {
            $this->setAttribute(\PDO::ATTR_STATEMENT_CLASS, [PdoStatement::class, [$this->bitvilleDriver]]);
        }
        if ($pg) {
            $this->bitvilleComment = PgCorrelation::comment();
            if ($tagName && $persistent) {
                $this->tagPersistent();
            }
        }
    }

    /** SET application_name on a reused connection, remembering the name it had. */
    private function tagPersistent(): void
    {
        try {
            $r = parent::query('SHOW application_name');
            $before = $r === false ? '' : (string) $r->fetchColumn();
            if (parent::exec("SET application_name = '" . PgCorrelation::applicationName() . "'") === false) {
                return;
            }
            // A connection a crashed request left tagged goes back to a neutral name, not to the tag.
            $this->bitvilleRestoreName = strncmp($before, 'bitville-', 9) === 0 ? '' : $before;
            $ref = \WeakReference::create($this);
            register_shutdown_function(static function () use ($ref): void {
                $pdo = $ref->get();
                if ($pdo instanceof Pdo) {
                    $pdo->bitvilleRestore();
                }
            });
        } catch (\Throwable $e) {
            $this->bitvilleRestoreName = null; // correlation is best effort; the application goes on
        }
    }

    /** @internal Puts back the application_name a persistent connection had before this request. */
    public function bitvilleRestore(): void
    {
        if ($this->bitvilleRestoreName === null) {
            return;
        }
        $name = $this->bitvilleRestoreName;
        $this->bitvilleRestoreName = null;
        try {
            parent::exec('SET application_name = ' . parent::quote($name));
        } catch (\Throwable $e) {
            // connection already broken: nothing to leak
        }
    }

    public function __destruct()
    {
        $this->bitvilleRestore();
    }

    /**
     * @param string $statement
     * @return int|false
     */
    #[\ReturnTypeWillChange]
    public function exec($statement)
    {
        $t = hrtime(true);
        try {
            return parent::exec($this->bitvilleComment . $statement);
        } finally {
            Agent::recordSql((string) $statement, (hrtime(true) - $t) / 1e6, 2, $this->bitvilleDriver);
        }
    }

    /**
     * @param string $query
     * @param int|null $fetchMode
     * @param mixed ...$fetchModeArgs
     * @return \PDOStatement|false
     */
    #[\ReturnTypeWillChange]
    public function query($query, $fetchMode = null, ...$fetchModeArgs)
    {
        $t = hrtime(true);
        $sql = $this->bitvilleComment . $query;
        try {
            return $fetchMode === null ? parent::query($sql) : parent::query($sql, $fetchMode, ...$fetchModeArgs);
        } finally {
            Agent::recordSql((string) $query, (hrtime(true) - $t) / 1e6, 2, $this->bitvilleDriver);
        }
    }

    /**
     * @param string $query
     * @param array<int, mixed> $options
     * @return \PDOStatement|false
     */
    #[\ReturnTypeWillChange]
    public function prepare($query, $options = [])
    {
        return parent::prepare($this->bitvilleComment . $query, $options);
    }
}
