# Messages for things that go wrong. Each says what happened; `.action` says what to do.

error-generic = Something went wrong
    .action = Please try again. If it keeps happening, visit a service window during office hours.

card-error-reader = The card reader is not available
    .action = Please try again later, or visit a service window during office hours.
card-error-no-card = No card found
    .action = Insert your social security card with the chip facing up.
card-error-removed = The card was removed while it was being read
    .action = Insert the card again and leave it in until reading is done.
card-error-unreadable = This card cannot be read
    .action = Check that the chip faces up, wipe the chip, and try again.
card-error-unknown = This card is not recognised
    .action = Please use a social security card.
card-error-busy = The card reader is busy
    .action = Wait a few seconds and try again.
card-error-pin-required = This card needs its PIN
    .action = Enter your social security card PIN.
card-error-wrong-pin = Wrong PIN
    .action = Enter the PIN again. Too many wrong tries lock the card.
card-error-pin-blocked = The card PIN is locked
    .action = Bring your ID card to a social insurance window or bank branch to unlock it.

central-error-unreachable = The government service platform cannot be reached
    .action = Please try again later. Services that need the network are paused; others still work.
central-error-resident-not-found = We could not find your records
    .action = Make sure you are using your own card, or ask at a service window during office hours.
central-error-service-closed = This service is closed right now
    .action = Please come back during its opening hours, or choose another service.
central-error-failed = The platform cannot handle this request right now
    .action = Please try again later. If it keeps happening, visit a service window during office hours.

print-error-paper-out = The printer is out of paper
    .action = Your certificate is issued: print it at another kiosk or a window with its verification code, or view it on your phone.
print-error-cover-open = The printer cover is open
    .action = Please tell the staff, or print later at another kiosk.
print-error-offline = The printer is not available
    .action = Your certificate is issued: print it at another kiosk or a window with its verification code.
print-error-failed = Printing did not finish
    .action = Please do not take an incomplete page. Your certificate is issued and can be printed again with its verification code.
print-error-jammed = The printer is jammed
    .action = Please do not pull the paper. Your certificate is issued: print it at another kiosk or a window with its verification code.
print-error-interrupted = Printing was interrupted
    .action = Please do not take an incomplete page. Your certificate is issued and can be printed again with its verification code.
print-error-needs-staff = The printer needs a technician
    .action = Your certificate is issued: print it at another kiosk or a window with its verification code.
