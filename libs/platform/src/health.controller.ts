import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { NATS_CONNECTION } from '@pipewright/messaging';
import type { Response } from 'express';
import type { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';

const CHECK_TIMEOUT_MS = 2000;

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref())]);
}

/** Kubernetes probes: live while the process serves; ready only while PostgreSQL and NATS answer. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly ds: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  @Get('live')
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res() res: Response) {
    const [database, nats] = await Promise.all([
      within(this.ds.query('SELECT 1'), CHECK_TIMEOUT_MS).then(() => 'up', (e: Error) => `down: ${e.message}`),
      (this.nc.isClosed() ? Promise.reject(new Error('connection closed')) : within(this.nc.flush(), CHECK_TIMEOUT_MS)).then(
        () => 'up',
        (e: Error) => `down: ${e.message}`,
      ),
    ]);
    const ok = database === 'up' && nats === 'up';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks: { database, nats } });
  }
}
