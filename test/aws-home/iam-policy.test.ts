import { evaluate } from './iam-policy';

describe('IAM policy evaluator (harness)', () => {
  const table = 'arn:aws:dynamodb:us-east-1:123456789012:table/ferry';
  it('allows a listed action on a listed resource, and nothing else', () => {
    const s = [{ Effect: 'Allow' as const, Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: table }];
    expect(evaluate(s, 'dynamodb:GetItem', table)).toBe('allow');
    expect(evaluate(s, 'dynamodb:DeleteItem', table)).toBe('implicit-deny');
    expect(evaluate(s, 'dynamodb:GetItem', `${table}-other`)).toBe('implicit-deny');
  });

  it('matches action wildcards case-insensitively and resource wildcards across / exactly by case', () => {
    const s = [{ Effect: 'Allow' as const, Action: 's3:Get*', Resource: 'arn:aws:s3:::b/topics/*' }];
    expect(evaluate(s, 's3:getobject', 'arn:aws:s3:::b/topics/t1/x.seg')).toBe('allow');
    expect(evaluate(s, 's3:GetObject', 'arn:aws:s3:::b/Topics/x')).toBe('implicit-deny');
    expect(evaluate(s, 's3:PutObject', 'arn:aws:s3:::b/topics/x')).toBe('implicit-deny');
    expect(evaluate(s, 's3:GetObject', 'arn:aws:s3:::b')).toBe('implicit-deny');
  });

  it('lets an explicit Deny win over any Allow, and honours NotAction / NotResource', () => {
    const s = [
      { Effect: 'Allow' as const, Action: '*', Resource: '*' },
      { Effect: 'Deny' as const, NotAction: 's3:GetObject', NotResource: 'arn:aws:s3:::open/*' },
    ];
    expect(evaluate(s, 's3:GetObject', 'arn:aws:s3:::secret/k')).toBe('allow');
    expect(evaluate(s, 's3:PutObject', 'arn:aws:s3:::secret/k')).toBe('explicit-deny');
    expect(evaluate(s, 's3:PutObject', 'arn:aws:s3:::open/k')).toBe('allow');
  });
});
