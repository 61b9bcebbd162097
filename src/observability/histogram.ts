// A Prometheus histogram for the per-request observations, registered with prom-client's
// registry like any of its metrics (same exposition), but with a handle per label set
// whose observe() is a bucket search and three additions. prom-client's own histogram
// validates and hashes the labels on every observe(), even through a child: a few
// microseconds on every request.
import type { Registry } from 'prom-client';

export interface HistogramSeries {
  observe(value: number): void;
}

interface Series extends HistogramSeries {
  labels: Record<string, string>;
  /** Observations per bucket (not cumulative); the last is above every bound (+Inf). */
  counts: Float64Array;
  sum: number;
  count: number;
}

export interface FastHistogramOptions {
  name: string;
  help: string;
  labelNames: readonly string[];
  buckets: readonly number[];
  registers: Registry[];
}

/** The shape prom-client's registry reads from a metric (`get()`, as its own metrics have). */
interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

export class FastHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly labelNames: readonly string[];
  private readonly bounds: Float64Array;
  private readonly all = new Map<string, Series>();

  constructor(options: FastHistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    this.bounds = Float64Array.from([...options.buckets].sort((a, b) => a - b));
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  /** The handle for one label set (values in labelNames order); keep it and observe through it. */
  series(...values: string[]): HistogramSeries {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name}: ${values.length} label values for ${this.labelNames.length} labels`);
    const id = values.join('\u0001');
    let found = this.all.get(id);
    if (!found) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i]));
      const bounds = this.bounds;
      const series: Series = {
        labels,
        counts: new Float64Array(bounds.length + 1),
        sum: 0,
        count: 0,
        observe(value: number) {
          if (!Number.isFinite(value)) return;
          let i = 0;
          while (i < bounds.length && value > bounds[i]) i++;
          series.counts[i]++;
          series.sum += value;
          series.count++;
        },
      };
      found = series;
      this.all.set(id, found);
    }
    return found;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const series of this.all.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += series.counts[i];
        values.push({ labels: { le: this.bounds[i], ...series.labels }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: `${this.name}_bucket` });
      values.push({ labels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: series.labels, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Every series back to zero (the handles stay valid). */
  reset(): void {
    for (const series of this.all.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
