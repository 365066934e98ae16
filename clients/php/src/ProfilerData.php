<?php

namespace Bitville\Apm;

/**
 * Stops the running profiler and turns its data into what the listener indexes:
 * `xhprof.profiling.top_functions` (name, calls, inclusive and exclusive wall time), and for
 * excimer also `excimer.folded` (collapsed stacks for a flame graph).
 */
final class ProfilerData
{
    /** Functions kept: the top N by inclusive time plus the top N by exclusive time. */
    const TOP = 30;

    /** Folded stacks kept (heaviest first), so one request cannot send megabytes of samples. */
    const MAX_FOLDED_BYTES = 65536;

    /**
     * @param float $elapsedUs the request's wall time, the 100 % of pct_of_total
     * @return array<string, mixed> keys to merge into the profile
     */
    public static function collect(float $elapsedUs): array
    {
        switch (Agent::$profiler) {
            case 'tideways':
                return ['xhprof' => self::fromXhprof(tideways_xhprof_disable(), 'tideways_xhprof', $elapsedUs)];
            case 'tideways_legacy':
                return ['xhprof' => self::fromXhprof(tideways_disable(), 'tideways', $elapsedUs)];
            case 'xhprof':
                return ['xhprof' => self::fromXhprof(xhprof_disable(), 'xhprof', $elapsedUs)];
            case 'excimer':
                return self::fromExcimer(Agent::$excimer);
        }
        return [];
    }

    /**
     * A raw XHProf map `parent==>child => {ct, wt}` (wt in µs): inclusive = sum of the edges
     * into a function, exclusive = inclusive minus the edges out of it. Recursion markers
     * (`f@1`) fold into `f`, and an edge from a function into itself is skipped: the outer call
     * already contains it (tideways 5 on PHP 8 also reports every internal call that way).
     *
     * @param mixed $raw
     * @return array<string, mixed>
     */
    public static function fromXhprof($raw, string $source, float $elapsedUs): array
    {
        if (!is_array($raw)) {
            return ['source' => $source, 'profiling' => ['top_functions' => []]];
        }
        $incl = [];
        $calls = [];
        $children = [];
        $totalCalls = 0;
        foreach ($raw as $edge => $m) {
            $pos = strpos($edge, '==>');
            $child = self::base($pos === false ? $edge : substr($edge, $pos + 3));
            $parent = $pos === false ? null : self::base(substr($edge, 0, $pos));
            if ($child === $parent || strncmp($child, 'Bitville\\Apm\\', 13) === 0) {
                continue; // recursion, or this client's own reporting
            }
            $wt = isset($m['wt']) ? (int) $m['wt'] : 0;
            $ct = isset($m['ct']) ? (int) $m['ct'] : 0;
            $incl[$child] = (isset($incl[$child]) ? $incl[$child] : 0) + $wt;
            $calls[$child] = (isset($calls[$child]) ? $calls[$child] : 0) + $ct;
            if ($parent !== null) {
                $children[$parent] = (isset($children[$parent]) ? $children[$parent] : 0) + $wt;
            }
            $totalCalls += $ct;
        }
        $self = [];
        foreach ($incl as $fn => $wt) {
            $self[$fn] = max(0, $wt - (isset($children[$fn]) ? $children[$fn] : 0));
        }
        return ['source' => $source, 'profiling' => self::top($incl, $self, $calls, $elapsedUs, $totalCalls)];
    }

    private static function base(string $fn): string
    {
        $at = strrpos($fn, '@');
        return $at !== false && ctype_digit(substr($fn, $at + 1)) ? substr($fn, 0, $at) : $fn;
    }

    /**
     * @param object|null $profiler ExcimerProfiler
     * @return array<string, mixed>
     */
    public static function fromExcimer($profiler): array
    {
        if ($profiler === null) {
            return [];
        }
        $profiler->stop();
        $folded = (string) $profiler->getLog()->formatCollapsed();
        $periodUs = 2000.0;
        $stacks = [];
        foreach (explode("\n", $folded) as $line) {
            $sp = strrpos($line, ' ');
            if ($sp === false) {
                continue;
            }
            $stack = substr($line, 0, $sp);
            $stacks[$stack] = (isset($stacks[$stack]) ? $stacks[$stack] : 0) + (int) substr($line, $sp + 1);
        }
        arsort($stacks);
        $incl = [];
        $self = [];
        $calls = [];
        $samples = 0;
        $kept = '';
        foreach ($stacks as $stack => $n) {
            $samples += $n;
            if (strlen($kept) + strlen($stack) < self::MAX_FOLDED_BYTES) {
                $kept .= $stack . ' ' . $n . "\n";
            }
            $frames = array_values(array_filter(explode(';', $stack), function ($f) {
                return $f !== '' && strncmp($f, 'Bitville\\Apm\\', 13) !== 0;
            }));
            if (!$frames) {
                continue;
            }
            foreach (array_unique($frames) as $fn) {
                $incl[$fn] = (isset($incl[$fn]) ? $incl[$fn] : 0) + $n * $periodUs;
                $calls[$fn] = (isset($calls[$fn]) ? $calls[$fn] : 0) + $n; // samples, not calls: excimer cannot count calls
            }
            $leaf = end($frames);
            $self[$leaf] = (isset($self[$leaf]) ? $self[$leaf] : 0) + $n * $periodUs;
        }
        foreach ($incl as $fn => $_) {
            if (!isset($self[$fn])) {
                $self[$fn] = 0;
            }
        }
        $total = $samples * $periodUs;
        return [
            'excimer' => ['period_ms' => $periodUs / 1000.0, 'samples' => $samples, 'folded' => $kept],
            'xhprof' => ['source' => 'excimer', 'profiling' => self::top($incl, $self, $calls, $total, $samples)],
        ];
    }

    /**
     * @param array<string, float|int> $incl µs
     * @param array<string, float|int> $self µs
     * @param array<string, int> $calls
     * @return array<string, mixed>
     */
    private static function top(array $incl, array $self, array $calls, $totalUs, int $totalCalls): array
    {
        arsort($incl);
        $bySelf = $self;
        arsort($bySelf);
        $names = array_slice(array_keys($incl), 0, self::TOP);
        foreach (array_slice(array_keys($bySelf), 0, self::TOP) as $fn) {
            $names[] = $fn;
        }
        $top = [];
        foreach (array_unique($names) as $fn) {
            $wt = $incl[$fn];
            $top[] = [
                'name' => (string) $fn,
                'calls' => isset($calls[$fn]) ? $calls[$fn] : 0,
                'wall_time_us' => (int) round($wt),
                'wall_time_ms' => round($wt / 1000.0, 3),
                'self_wall_time_ms' => round($self[$fn] / 1000.0, 3),
                'pct_of_total' => $totalUs > 0 ? round($wt * 100.0 / $totalUs, 2) : 0.0,
            ];
        }
        usort($top, function ($a, $b) {
            return $b['wall_time_us'] <=> $a['wall_time_us'];
        });
        return ['total_calls' => $totalCalls, 'total_wall_time' => (int) round($totalUs), 'top_functions' => $top];
    }
}
