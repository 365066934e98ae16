<?php
// PostgreSQL pages for the Postgres-agent correlation tests (APP_PG_DSN = a pgsql: DSN).
// /pg/hold?ms=2000   updates account 1 inside a transaction and keeps the lock for ms
// /pg/wait           updates account 1 (waits while /pg/hold runs)
// /pg/app-name       this connection's application_name and a statement's text as the server saw it
//                    (?persistent=1 a persistent connection, ?ignore=1 the request asks not to be watched)
require_once __DIR__ . '/../../clients/php/bitville-apm.php';

$path = parse_url(isset($_SERVER['REQUEST_URI']) ? $_SERVER['REQUEST_URI'] : '/', PHP_URL_PATH);
if (!empty($_GET['ignore'])) {
    bitville_apm_ignore();
}
$options = [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION];
if (!empty($_GET['persistent'])) {
    $options[PDO::ATTR_PERSISTENT] = true;
}
$db = new Bitville\Apm\Pdo((string) getenv('APP_PG_DSN'), null, null, $options);
header('Content-Type: application/json');

switch ($path) {
    case '/pg/hold':
        $db->beginTransaction();
        $db->exec('UPDATE accounts SET balance = balance + 1 WHERE id = 1');
        usleep(((int) (isset($_GET['ms']) ? $_GET['ms'] : 2000)) * 1000);
        $db->commit();
        echo json_encode(['correlation_id' => bitville_apm_correlation_id()]);
        break;

    case '/pg/wait':
        $st = $db->prepare('UPDATE accounts SET balance = balance - 1 WHERE id = ?');
        $st->execute([1]);
        echo json_encode(['correlation_id' => bitville_apm_correlation_id()]);
        break;

    case '/pg/app-name':
        $name = $db->query("SELECT current_setting('application_name')")->fetchColumn();
        $seen = $db->query('SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid()')->fetchColumn();
        echo json_encode(['correlation_id' => bitville_apm_correlation_id(), 'application_name' => $name, 'query' => $seen]);
        break;

    default:
        http_response_code(404);
        echo '{}';
}
