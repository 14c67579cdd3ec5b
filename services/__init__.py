"""Agency services, one plug-in package each (built in the agency-services issue)."""
