<?php

namespace Bitville\Apm;

/** Prepared statement of Bitville\Apm\Pdo: each execute() is recorded with its time. */
class PdoStatement extends \PDOStatement
{
    /** @var string|null the connection's PDO driver name */
    private $bitvilleDriver;

    /** PDO requires a non-public constructor for ATTR_STATEMENT_CLASS; Pdo passes its driver name. */
    protected function __construct(?string $driver = null)
    {
        $this->bitvilleDriver = $driver;
    }

    /**
     * @param array<int|string, mixed>|null $params
     * @return bool
     */
    #[\ReturnTypeWillChange]
    public function execute($params = null)
    {
        $t = hrtime(true);
        try {
            return parent::execute($params);
        } finally {
            Agent::recordSql(PgCorrelation::untagged($this->queryString), (hrtime(true) - $t) / 1e6, 2, $this->bitvilleDriver);
        }
    }
}
