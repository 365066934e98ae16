<?php

namespace Bitville\Apm;

/**
 * Phalcon database events adapter (Phalcon 3 to 5): records each statement a Phalcon Db adapter
 * runs, with its time. Phalcon talks to its own PDO handle, so the Pdo wrapper cannot see these.
 *
 *     $events = new \Phalcon\Events\Manager();
 *     $events->attach('db', new \Bitville\Apm\PhalconDbListener());
 *     $connection->setEventsManager($events);
 *
 * No Phalcon types in the signatures, so this file loads (and lints) without the extension.
 * The SQL is getSQLStatement(): placeholders, not bound values, so no data leaks into profiles.
 */
class PhalconDbListener
{
    /** @var list<int> start times (hrtime ns) of statements in flight; nested events are possible */
    private $started = [];

    /**
     * @param object $event
     * @param object $connection
     */
    public function beforeQuery($event, $connection): void
    {
        $this->started[] = hrtime(true);
    }

    /**
     * @param object $event
     * @param object $connection
     */
    public function afterQuery($event, $connection): void
    {
        try {
            $t = array_pop($this->started);
            if ($t === null) {
                return;
            }
            $sql = method_exists($connection, 'getSQLStatement') ? (string) $connection->getSQLStatement() : '';
            // getType(): the adapter's database (mysql, pgsql, sqlite), recorded as the query's driver.
            $driver = method_exists($connection, 'getType') ? (string) $connection->getType() : null;
            Agent::recordSql($sql, (hrtime(true) - $t) / 1e6, 3, $driver === '' ? null : $driver);
        } catch (\Throwable $e) {
            // never throws into the application
        }
    }
}
