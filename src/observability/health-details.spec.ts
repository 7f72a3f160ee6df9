import { AppConfig } from '../config/app-config';
import { HealthShowDetails } from '../config/environment';
import { HealthDetailsPolicy } from './health-details';

function policy(showDetails: HealthShowDetails, apiKeys: string[]): HealthDetailsPolicy {
  return new HealthDetailsPolicy({
    health: { showDetails },
    security: { apiKeys, actuatorRequiresApiKey: false },
  } as unknown as AppConfig);
}

describe(HealthDetailsPolicy.name, () => {
  it('when-authorized: shows details to a request with a valid API key (X-API-Key or Bearer), to no other', () => {
    const sut = policy('when-authorized', ['k-1', 'k-2']);

    expect(sut.showsTo({ 'x-api-key': 'k-2' })).toBe(true);
    expect(sut.showsTo({ authorization: 'Bearer k-1' })).toBe(true);
    expect(sut.showsTo({ 'x-api-key': 'wrong' })).toBe(false);
    expect(sut.showsTo({})).toBe(false);
  });

  it('when-authorized without API keys configured: nobody is authorized, so nobody sees details', () => {
    const sut = policy('when-authorized', []);

    expect(sut.showsTo({})).toBe(false);
    expect(sut.showsTo({ 'x-api-key': 'anything' })).toBe(false);
  });

  it('always shows details, and never shows none, whatever the key', () => {
    expect(policy('always', ['k-1']).showsTo({})).toBe(true);
    expect(policy('always', []).showsTo({})).toBe(true);
    expect(policy('never', ['k-1']).showsTo({ 'x-api-key': 'k-1' })).toBe(false);
  });
});
