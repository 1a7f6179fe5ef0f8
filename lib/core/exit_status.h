// The exit statuses every command uses (DESIGN.md, "Conventions"), documented in each man page.
#pragma once

/// Process exit statuses. Nothing else is ever returned from main().
enum ExitStatus {
  kExitOk = 0,           ///< clean end: end of input, --count reached, signal after draining
  kExitFailure = 1,      ///< runtime failure
  kExitUsage = 2,        ///< usage error: bad option or argument
  kExitCredentials = 3,  ///< credentials rejected by the peer
};
