<?php

namespace Bitville\Apm;

/**
 * Drop-in PDO that records every query, exec and prepared execute with its time:
 * replace `new PDO(...)` with `new \Bitville\Apm\Pdo(...)`.
 *
 * Prepared statements are timed through PdoStatement (PDO::ATTR_STATEMENT_CLASS); that attribute
 * cannot be used with persistent connections, so there only query() and exec() are timed.
 * An application that sets its own ATTR_STATEMENT_CLASS replaces ours the same way.
 */
class Pdo extends \PDO
{
    /**
     * @param string $dsn
     * @param string|null $username
     * @param string|null $password
     * @param array<int, mixed>|null $options
     */
    public function __construct($dsn, $username = null, $password = null, $options = null)
    {
        parent::__construct($dsn, $username, $password, $options === null ? [] : $options);
        if (empty($options[\PDO::ATTR_PERSISTENT])) {
            $this->setAttribute(\PDO::ATTR_STATEMENT_CLASS, [PdoStatement::class, []]);
        }
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
            return parent::exec($statement);
        } finally {
            Agent::recordSql((string) $statement, (hrtime(true) - $t) / 1e6, 2);
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
        try {
            return $fetchMode === null ? parent::query($query) : parent::query($query, $fetchMode, ...$fetchModeArgs);
        } finally {
            Agent::recordSql((string) $query, (hrtime(true) - $t) / 1e6, 2);
        }
    }
}
