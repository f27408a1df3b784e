# Technicians' maintenance mode.

maintenance-login-title = Technician sign-in
maintenance-login-hint = Insert your service card if you have one, then enter your PIN
maintenance-error-denied = Wrong PIN. { $tries } tries left
maintenance-error-locked = Too many wrong PINs: locked for a while, try again later
maintenance-error-card = The service card cannot be read: insert it again
checking-technician-title = Checking
checking-technician-hint = One moment
maintenance-title = Maintenance
maintenance-hello = Technician: { $name }
maintenance-run-selftest = Device self-test
maintenance-run-selftest-hint = Card reader, printer, network, clock, disk, outbox
maintenance-display-test = Display test
maintenance-display-test-hint = Colour test and a grid to touch, cell by cell
maintenance-exit = Leave maintenance
running-selftest-title = Running the self-test
running-selftest-hint = Checking every device; a few seconds
selftest-title = Self-test report
selftest-hint = Sent with the next heartbeat
selftest-pass = OK
selftest-warn = Warn
selftest-fail = Fail
selftest-again = Run again
display-test-title = Display test
display-test-hint = Check the colour bars, then touch every cell
display-test-fail = Faulty
display-test-pass = Looks right ({ $left } cells left)
