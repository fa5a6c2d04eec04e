/** The DIMSE edge's principal: Calling AE Title → archive reader, organisation, or nobody. */
import test from 'ava';
import { moveDestination, principalForCallingAETitle } from '../../gateway/principal.js';

const access = {
  peers: [
    { aeTitle: 'OWNPACS', host: '127.0.0.1', port: 104, access: 'archive' as const },
    { aeTitle: 'CLINICPACS', host: '127.0.0.1', port: 105, access: 'organisation' as const },
    { aeTitle: 'OTHERPACS', host: '127.0.0.1', port: 106, access: 'organisation' as const },
  ],
  organisations: [
    { id: 'clinic', name: 'Clinic', aeTitles: ['CLINICPACS', 'CLINICCT'] },
    { id: 'other', name: 'Other', aeTitles: ['OTHERPACS'] },
  ],
};

test('the archive peer reads as the archive reader; an organisation AE as its organisation; others as nobody', (t) => {
  t.deepEqual(principalForCallingAETitle(access, 'OWNPACS'), { kind: 'archive-reader' });
  t.deepEqual(principalForCallingAETitle(access, 'CLINICCT'), {
    kind: 'organisation',
    organisationId: 'clinic',
  });
  t.deepEqual(principalForCallingAETitle(access, 'CLINICPACS'), {
    kind: 'organisation',
    organisationId: 'clinic',
  });
  t.is(principalForCallingAETitle(access, 'STRANGER'), undefined);
});

test('C-MOVE destinations: any peer for the archive reader, only its own for an organisation, none for nobody', (t) => {
  const archive = principalForCallingAETitle(access, 'OWNPACS');
  const clinic = principalForCallingAETitle(access, 'CLINICCT');
  t.is(moveDestination(access, archive, 'OTHERPACS')?.port, 106);
  t.is(moveDestination(access, clinic, 'CLINICPACS')?.port, 105);
  t.is(moveDestination(access, clinic, 'OTHERPACS'), undefined);
  t.is(moveDestination(access, clinic, 'OWNPACS'), undefined);
  t.is(moveDestination(access, undefined, 'OWNPACS'), undefined);
  t.is(moveDestination(access, archive, 'UNKNOWN'), undefined);
});
