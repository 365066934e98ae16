<?php

/** The app's SQLite database (APP_DB, else a file in the temp dir), created on first use. */
function app_db(): PDO
{
    $file = getenv('APP_DB') ?: sys_get_temp_dir() . '/bitville-php-app.sqlite';
    $dsn = 'sqlite:' . $file;
    $db = class_exists('Bitville\\Apm\\Pdo') && getenv('APP_NO_CLIENT') !== '1'
        ? new Bitville\Apm\Pdo($dsn, null, null, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION])
        : new PDO($dsn, null, null, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    $db->exec('PRAGMA busy_timeout = 5000');
    if (!$db->query("SELECT name FROM sqlite_master WHERE name = 'products'")->fetch()) {
        $db->exec('CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, name TEXT, price REAL, views INTEGER DEFAULT 0)');
        $db->exec('CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT, password TEXT)');
        $db->exec('CREATE TABLE IF NOT EXISTS sessions (id INTEGER PRIMARY KEY, user_name TEXT, api_key TEXT, note TEXT)');
        $db->exec("INSERT OR IGNORE INTO products (id, name, price) VALUES (1, 'lamp', 19.5), (2, 'desk', 120), (3, 'chair', 49)");
    }
    return $db;
}

/** A query that takes real time in SQLite: a recursive CTE counting through a few hundred thousand rows. */
function slow_query_sql(): string
{
    return 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) SELECT count(*), sum(x) FROM c';
}

/** The slow PHP function: burns wall time in small steps so a sampling profiler sees it too. */
function build_report(int $ms): void
{
    $until = microtime(true) + $ms / 1000;
    while (microtime(true) < $until) {
        usleep(1000);
    }
}
