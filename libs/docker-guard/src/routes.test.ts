import { describe, expect, it } from 'vitest';
import { checkNetworkCreate, classify, decideOnTarget, type Route } from './index.js';
import { policy } from '../test/fixtures.js';

const route = (method: string, url: string): Route => {
  // As the proxy reads req.url: the raw path, never normalised.
  const [path = '', query = ''] = url.split('?', 2);
  return classify(method, path, new URLSearchParams(query), policy);
};

describe('routes: only the calls the executor makes', () => {
  it.each([
    ['GET', '/_ping', 'pass'],
    ['HEAD', '/_ping', 'pass'],
    ['GET', '/v1.47/version', 'pass'],
    ['GET', '/info', 'pass'],
    ['GET', '/events?since=1', 'pass'],
    ['GET', '/containers/json?all=1', 'pass'],
    ['GET', '/networks', 'pass'],
    ['GET', '/images/json', 'pass'],
    ['GET', '/images/ghcr.io/actions/actions-runner:2.330.0/json', 'pass'],
    ['GET', '/images/ghcr.io%2Factions%2Factions-runner%3A2.330.0/json', 'pass'],
    ['POST', '/images/create?fromImage=ghcr.io%2Factions%2Factions-runner&tag=2.330.0', 'pass'],
    ['POST', '/v1.41/containers/create?name=rh-x', 'create-container'],
    ['POST', '/networks/create', 'create-network'],
    ['GET', '/containers/rh-x/json', 'container'],
    ['GET', '/containers/abc/logs?tail=50', 'container'],
    ['GET', '/containers/abc/stats?stream=false', 'container'],
    ['POST', '/containers/abc/start', 'container'],
    ['POST', '/containers/abc/stop?t=10', 'container'],
    ['POST', '/containers/abc/wait', 'container'],
    ['DELETE', '/containers/abc?force=true&v=true', 'container'],
    ['PUT', '/containers/abc/archive?path=%2Frun%2Frunnerhub', 'container'],
    ['GET', '/networks/rh-net-1', 'network'],
    ['DELETE', '/networks/rh-net-1', 'network'],
  ])('%s %s → %s', (method, url, kind) => {
    expect(route(method, url).kind).toBe(kind);
  });

  it.each([
    ['POST', '/containers/abc/exec', /exec, attach, kill/],
    ['POST', '/containers/abc/attach', /not one the executor makes/],
    ['POST', '/containers/abc/kill', /not one the executor makes/],
    ['POST', '/containers/abc/restart', /not one the executor makes/],
    ['GET', '/containers/abc/archive?path=/etc', /not one the executor makes/],
    ['HEAD', '/containers/abc/archive?path=/etc', /not one the executor makes/],
    ['GET', '/containers/abc/export', /not one the executor makes/],
    ['PUT', '/containers/abc/archive?path=/etc', /only be put into \/run\/runnerhub/],
    ['POST', '/containers/abc/update', /not one the executor makes/],
    ['POST', '/networks/rh-x/connect', /connect and disconnect/],
    ['POST', '/networks/rh-x/disconnect', /not one the executor makes/],
    ['POST', '/containers/prune', /prune/],
    ['POST', '/networks/prune', /prune/],
    ['POST', '/exec/abc/start', /never makes this call/],
    ['POST', '/build', /never makes this call/],
    ['POST', '/volumes/create', /never makes this call/],
    ['GET', '/volumes', /never makes this call/],
    ['GET', '/plugins', /never makes this call/],
    ['POST', '/swarm/init', /never makes this call/],
    ['GET', '/secrets', /never makes this call/],
    ['POST', '/images/load', /never makes this call/],
    ['POST', '/images/runnerhub/fake-runner:dev/tag?repo=ghcr.io/actions/actions-runner', /never makes this call/],
    ['DELETE', '/images/ghcr.io/actions/actions-runner:2.330.0', /never makes this call/],
    ['POST', '/commit?container=abc', /never makes this call/],
    ['POST', '/images/create?fromSrc=-&repo=ghcr.io/actions/actions-runner&tag=2.330.0', /importing an image \(fromSrc\)/],
    ['POST', '/images/create?fromImage=alpine&tag=3', /image "alpine:3" is not one the pools name/],
    ['POST', '/images/create?fromImage=evil.example/x', /not one the pools name/],
    ['POST', '/images/create?fromImage=runnerhub/x&tag=1&message=hi', /"message" is not allowed/],
    ['GET', '/containers/abc%2F..%2Fxyz/json', /dotted/],
    ['GET', '/containers/abc%2Fxyz/json', /not a container or network id/],
    ['GET', '/containers/../info', /dotted/],
    ['GET', '/containers/create', /only POST/],
    ['POST', '/containers/json', /only GET/],
  ])('%s %s is refused', (method, url, reason) => {
    const r = route(method, url);
    expect(r.kind).toBe('refuse');
    expect(r.kind === 'refuse' ? r.reason : '').toMatch(reason);
  });
});

describe('targets: only this deployment’s objects', () => {
  const target = route('POST', '/containers/abc/stop') as Extract<Route, { kind: 'container' }>;
  it('allows ours, refuses unlabelled, foreign and unmanaged ones with the reason', () => {
    expect(decideOnTarget(target, { 'io.runnerhub.managed': 'true', 'io.runnerhub.deployment': 'nas-1' }, policy)).toEqual({ allow: true });
    expect(decideOnTarget(target, {}, policy)).toEqual({ allow: false, reason: 'container stop on container "abc" refused: it does not carry the label io.runnerhub.managed=true: it is not RunnerHub\'s' });
    expect(decideOnTarget(target, { 'io.runnerhub.managed': 'true', 'io.runnerhub.deployment': 'other' }, policy)).toMatchObject({ allow: false, reason: expect.stringMatching(/belongs to deployment "other"/) as string });
    expect(decideOnTarget(target, null, policy).allow).toBe(false);
  });
});

describe('network create', () => {
  const labels = { 'io.runnerhub.managed': 'true', 'io.runnerhub.deployment': 'nas-1' };
  it('allows the executor’s bridge, refuses other drivers, options, names and labels', () => {
    expect(checkNetworkCreate({ Name: 'rh-net-1', Driver: 'bridge', CheckDuplicate: true, Labels: labels }, policy)).toEqual({ allow: true });
    expect(checkNetworkCreate({ Name: 'rh-net-1', Driver: 'bridge', Labels: labels, Internal: true }, policy)).toEqual({ allow: true });
    expect(checkNetworkCreate({ Name: 'rh-net-1', Driver: 'macvlan', Labels: labels }, policy).allow).toBe(false);
    expect(checkNetworkCreate({ Name: 'rh-net-1', Labels: labels, Options: { 'com.docker.network.bridge.name': 'eth0' } }, policy).allow).toBe(false);
    expect(checkNetworkCreate({ Name: 'rh-net-1', Labels: labels, IPAM: { Config: [{ Subnet: '192.168.1.0/24' }] } }, policy).allow).toBe(false);
    expect(checkNetworkCreate({ Name: 'lan', Labels: labels }, policy).allow).toBe(false);
    expect(checkNetworkCreate({ Name: 'rh-net-1', Labels: { ...labels, 'io.runnerhub.deployment': 'x' } }, policy).allow).toBe(false);
  });
});
