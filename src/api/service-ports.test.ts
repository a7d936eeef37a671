// assignServicePorts: Marathon's service port rules as a pure function.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../domain/index.js';
import type { AppSpec } from '../domain/index.js';
import { assignServicePorts } from './service-ports.js';

const app = (id: string, ports: number[], extra: Partial<AppSpec> = {}): AppSpec =>
  ({
    id,
    requirePorts: false,
    portDefinitions: ports.map((port, i) => ({ port, protocol: 'tcp', name: `p${i}` })),
    ...extra,
  }) as AppSpec;

/** The `taken` predicate of a fixed set of ports held by other apps. */
const takenOf = (ports: number[]) => (port: number) => ports.includes(port);

const portsOf = (spec: AppSpec | undefined) => spec?.portDefinitions?.map((d) => d.port);

describe('assignServicePorts', () => {
  it('gives each 0 the lowest port of [10000, 20000] that no app holds', () => {
    const [a, b] = assignServicePorts([app('/a', [0, 0]), app('/b', [0])], {
      taken: takenOf([10000, 10002]),
    });
    expect(portsOf(a)).toEqual([10001, 10003]);
    expect(portsOf(b)).toEqual([10004]);
  });

  it('starts at `from` when the caller knows every port below it taken', () => {
    const [a] = assignServicePorts([app('/a', [0, 0])], {
      taken: takenOf([10005]),
      from: 10004,
    });
    expect(portsOf(a)).toEqual([10004, 10006]);
  });

  it('keeps a non-zero port as given and assigns around it', () => {
    const [a] = assignServicePorts([app('/a', [10000, 0, 31000])], { taken: takenOf([]) });
    expect(portsOf(a)).toEqual([10000, 10001, 31000]);
  });

  it('assigns no service port to an app with requirePorts (its ports are host ports)', () => {
    const [a] = assignServicePorts([app('/a', [0, 8080], { requirePorts: true })], {
      taken: takenOf([]),
    });
    expect(portsOf(a)).toEqual([0, 8080]);
  });

  it('assigns servicePort of container port mappings', () => {
    const spec = app('/a', [], {
      container: {
        type: 'DOCKER',
        volumes: [],
        portMappings: [
          { containerPort: 80, servicePort: 0 },
          { containerPort: 81, servicePort: 12000 },
        ],
      },
    });
    const [a] = assignServicePorts([spec], { taken: takenOf([10000]) });
    expect(a?.container?.portMappings?.map((m) => m.servicePort)).toEqual([10001, 12000]);
  });

  it('answers 422 when the range is used up', () => {
    const assign = () =>
      assignServicePorts([app('/a', [0, 0])], { taken: takenOf([5]), range: { min: 5, max: 6 } });
    expect(assign).toThrow(ValidationError);
    expect(() => assign()).toThrow(
      expect.objectContaining({
        violations: [
          { path: '/portDefinitions', errors: ['no free service port left in [5, 6] for app /a'] },
        ],
      }),
    );
  });
});
