"""Android environments: one driver (``AndroidDriver``) over a thin device backend.

The driver reads the screen as a uiautomator hierarchy dump and matches selectors
on the client (resource-id, text, content-desc, XPath), the same way for every
backend: uiautomator2 over adb, an Appium server, the sandbox device, a recorded
screen. A backend only moves bytes and fingers: dump, screenshot, tap, type, swipe,
back, start and stop the app, report what is in front.
"""
