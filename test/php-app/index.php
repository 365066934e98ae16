<?php
// A small shop-like app for the PHP client's end-to-end tests and benchmark.
// APP_NO_CLIENT=1 serves the same pages without the include (the benchmark's baseline).
// APP_CONSTANTS='{"BITVILLE_APM_PROJECT_NAME":"x"}' defines settings as constants (the tests' hook).
foreach ((array) json_decode((string) getenv('APP_CONSTANTS'), true) as $name => $value) {
    define($name, $value);
}
if (getenv('APP_NO_CLIENT') !== '1') {
    require_once __DIR__ . '/../../clients/php/bitville-apm.php';
}
require_once __DIR__ . '/lib.php';

$path = parse_url(isset($_SERVER['REQUEST_URI']) ? $_SERVER['REQUEST_URI'] : '/', PHP_URL_PATH);
if ($path === '/hello') {
    echo 'hello'; // the benchmark's page: nothing but the include's own cost
    return;
}
$db = app_db();

switch ($path) {
    case '/fast':
        // one indexed lookup, a few ms at most
        $st = $db->prepare('SELECT id, name, price FROM products WHERE id = ?');
        $st->execute([(int) (isset($_GET['id']) ? $_GET['id'] : 1)]);
        header('Content-Type: application/json');
        echo json_encode($st->fetch(PDO::FETCH_ASSOC));
        break;

    case '/slow':
        // a slow report: a heavy SQL query, a slow PHP function, then a few small queries
        $ms = isset($_GET['ms']) ? (int) $_GET['ms'] : 600;
        $rows = $db->query(slow_query_sql())->fetchAll();
        build_report($ms);
        for ($i = 1; $i <= 3; $i++) {
            $db->exec('UPDATE products SET views = views + 1 WHERE id = ' . $i);
        }
        if (function_exists('bitville_apm_context')) {
            bitville_apm_context(['route' => 'report.slow', 'user_id' => 42, 'session_token' => 'ctx-secret-value']);
        }
        header('Content-Type: text/html; charset=UTF-8');
        echo '<p>report with ' . count($rows) . ' rows</p>';
        break;

    case '/login':
        // secrets everywhere: POST body, SQL literals (the app is careless on purpose)
        $user = isset($_POST['user']) ? (string) $_POST['user'] : 'nobody';
        $pass = isset($_POST['password']) ? (string) $_POST['password'] : '';
        $db->query("SELECT id FROM users WHERE name = '" . SQLite3::escapeString($user) . "' AND password = '" . SQLite3::escapeString($pass) . "'")->fetchAll();
        $db->exec("INSERT INTO sessions (user_name, api_key, note) VALUES ('" . SQLite3::escapeString($user) . "', '" . SQLite3::escapeString($pass) . "', 'login')");
        usleep(((int) (isset($_GET['ms']) ? $_GET['ms'] : 600)) * 1000);
        echo 'ok';
        break;

    case '/late-status':
        // a shutdown function of the application's, registered after the include, sets the status
        usleep(((int) (isset($_GET['ms']) ? $_GET['ms'] : 600)) * 1000);
        register_shutdown_function(function () {
            http_response_code(503);
        });
        break;

    case '/manual':
        // SQL timed by the application itself
        if (function_exists('bitville_apm_sql')) {
            bitville_apm_sql('SELECT * FROM external_api_cache WHERE k = 7', 123.4);
        }
        usleep(((int) (isset($_GET['ms']) ? $_GET['ms'] : 600)) * 1000);
        echo 'manual';
        break;

    case '/big':
        // a profile far larger than a socket buffer (~3 MB of SQL text), for the budget tests
        if (function_exists('bitville_apm_sql')) {
            for ($i = 0; $i < 400; $i++) {
                bitville_apm_sql('SELECT ' . $i . ' /* ' . str_repeat(chr(65 + $i % 26), 7900) . ' */', 0.1);
            }
        }
        usleep(((int) (isset($_GET['ms']) ? $_GET['ms'] : 600)) * 1000);
        echo 'big';
        break;

    case '/error':
        http_response_code(500);
        usleep(((int) (isset($_GET['ms']) ? $_GET['ms'] : 600)) * 1000);
        echo 'failed';
        break;

    case '/fatal':
        usleep(((int) (isset($_GET['ms']) ? $_GET['ms'] : 600)) * 1000);
        undefined_function_for_the_test();
        break;

    case '/exception':
        // an uncaught exception: PHP answers 500 and the client reports it as the fatal error
        usleep(((int) (isset($_GET['ms']) ? $_GET['ms'] : 600)) * 1000);
        throw new RuntimeException('checkout failed for the test');

    case '/oom':
        // memory exhaustion (run with a small memory_limit)
        usleep(((int) (isset($_GET['ms']) ? $_GET['ms'] : 600)) * 1000);
        $hog = [];
        while (true) {
            $hog[] = str_repeat('x', 1024 * 1024);
        }
        // no break: never reached

    case '/exit':
        // exit() in the middle of the page: shutdown functions still run
        usleep(((int) (isset($_GET['ms']) ? $_GET['ms'] : 600)) * 1000);
        echo 'bye';
        exit(3);

    case '/many-queries':
        // an N+1 page: 5,000 small queries (the client keeps the first 500 and counts the rest)
        $n = isset($_GET['n']) ? (int) $_GET['n'] : 5000;
        $st = $db->prepare('SELECT id, name FROM products WHERE id = ?');
        for ($i = 0; $i < $n; $i++) {
            $st->execute([1 + $i % 3]);
            $st->fetchAll();
        }
        usleep(((int) (isset($_GET['ms']) ? $_GET['ms'] : 0)) * 1000);
        echo 'queries: ' . $n;
        break;

    case '/info':
        // what the client decided, for the config tests
        header('Content-Type: application/json');
        echo json_encode(class_exists('Bitville\\Apm\\Agent', false) ? [
            'config' => Bitville\Apm\Agent::config(),
            'active' => Bitville\Apm\Agent::$active,
            'profiler' => Bitville\Apm\Agent::$profiler,
        ] : null);
        break;

    default:
        http_response_code(404);
        echo 'not found';
}
