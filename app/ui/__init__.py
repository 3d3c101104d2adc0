"""What the app's pages share: cached reads (data), the view in the URL (state), background processes (launch),
the node panel and common messages. The pages themselves are in app/views/, one render function each."""
