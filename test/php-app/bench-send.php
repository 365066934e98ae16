<?php
// Cost of reporting one slow request (bench/php-client.bench.ts): build the profile, encode it
// and send it to the daemon socket, as Agent::report() does after fastcgi_finish_request().
// Usage: php bench-send.php <iterations>   (client settings from the environment)
// Prints one JSON line: {bytes, outcome, us: [per-iteration µs]}.
require_once __DIR__ . '/../../clients/php/bitville-apm.php';

use Bitville\Apm\Agent;
use Bitville\Apm\Reporter;

$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['REQUEST_URI'] = '/orders/1042/invoice?format=pdf&token=abc';
$_SERVER['HTTP_HOST'] = 'shop.example';
$_SERVER['HTTP_USER_AGENT'] = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36';
$_SERVER['HTTP_COOKIE'] = 'PHPSESSID=0123456789abcdef';
$_GET = ['format' => 'pdf', 'token' => 'abc'];

// ~20 KB: 55 queries with 5-frame stacks, some context
function run_queries(): void
{
    for ($i = 0; $i < 55; $i++) {
        bitville_apm_sql("SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = $i AND c.password = 'x'", 1.5 + $i);
    }
}
run_queries();
bitville_apm_context(['route' => 'invoice.pdf', 'user_id' => 5512]);

$n = isset($argv[1]) ? (int) $argv[1] : 200;
$us = [];
$bytes = 0;
for ($i = 0; $i < $n; $i++) {
    Agent::$correlationId = sprintf('00000000-0000-4000-8000-%012d', $i);
    $t = hrtime(true);
    Reporter::send(microtime(true), null);
    $us[] = (hrtime(true) - $t) / 1000;
}
$json = json_encode(Reporter::build(microtime(true), Agent::config(), 200, false, null, [], null));
echo json_encode(['bytes' => strlen($json), 'outcome' => Agent::$lastOutcome, 'us' => $us]), "\n";
