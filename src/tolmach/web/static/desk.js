// tolmach desk: small behaviours the pages share. No inline scripts (the CSP forbids them).
"use strict";
