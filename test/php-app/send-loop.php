<?php
// The client's own send path in a loop, for the stop/kill tests (test/e2e/php-daemon-stop.test.ts):
// each iteration sends one small profile with the id "<prefix>-<n>" through Transport::send, exactly
// as a slow request would, and prints "<id> <outcome>" (socket | inbox | dropped).
// Usage: php send-loop.php <prefix> <count> <pause_us>   (client settings from the environment)
require_once __DIR__ . '/../../clients/php/bitville-apm.php';

use Bitville\Apm\Agent;
use Bitville\Apm\Transport;

$prefix = $argv[1] ?? 'php';
$count = (int) ($argv[2] ?? 100);
$pauseUs = (int) ($argv[3] ?? 0);
for ($i = 0; $i < $count; $i++) {
    $id = sprintf('%s-%06d', $prefix, $i);
    $json = json_encode(['correlation_id' => $id, 'project' => 'stop', 'elapsed_ms' => 612.5, 'request' => ['method' => 'GET', 'uri' => '/loop/' . $i], 'pad' => str_repeat('x', 2000)]);
    echo $id, ' ', Transport::send((string) $json, $id, Agent::config()), "\n";
    if ($pauseUs > 0) {
        usleep($pauseUs);
    }
}
